import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Request } from 'express'
import busboy from 'busboy'

/** What can be wrong with a multipart upload as a whole, before its fields are looked at. */
export type UploadProblem = 'malformed' | 'too_large' | 'wrong_field' | 'too_many_files' | 'too_many_fields'

export interface UploadLimits {
  /** The form's file input: a file under any other name is refused. */
  fileField: string
  maxFileBytes: number
  /** Text fields, at most. */
  maxFields: number
}

export interface UploadedFile {
  /** The name the browser gave, as sent (see fileLabelOf in the route). */
  filename: string
  /** Where it was written: a folder of its own under the system's temporary folder, removed by `discard`. */
  path: string
  bytes: number
}

export interface Upload {
  fields: Map<string, string>
  /** The file, or null when none was chosen (an empty file part). */
  file: UploadedFile | null
  /** The first thing wrong with the upload, if any: its fields read so far are still there (the CSRF token). */
  problem: UploadProblem | null
  /** Removes the file written to disk; call once the import has read it. */
  discard: () => Promise<void>
}

/** Text fields of the upload form are short: a kind and a token. */
const MAX_FIELD_BYTES = 10 * 1024

/**
 * The body beyond the file allowed and its fields: read no further, and close the connection once answered (the
 * browser's own upload is refused within the allowance, with the page).
 */
const BODY_ALLOWANCE_BYTES = 256 * 1024

/**
 * Reads a multipart/form-data upload (busboy) with its file streamed to a temporary file, never held in memory. At
 * most one file, `maxFields` text fields and `maxFileBytes` of file; any more, or a body that is not multipart, gives a
 * problem rather than an error.
 */
export async function readUpload(req: Request, limits: UploadLimits): Promise<Upload> {
  const folder = await mkdtemp(path.join(tmpdir(), 'upload-'))
  const discard = () => rm(folder, { recursive: true, force: true })
  const upload: Upload = { fields: new Map(), file: null, problem: null, discard }
  try {
    await parseInto(req, limits, folder, upload)
  } catch (error) {
    await discard()
    throw error
  }
  return upload
}

function parseInto(req: Request, limits: UploadLimits, folder: string, upload: Upload): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (problem: UploadProblem) => {
      upload.problem ??= problem
    }
    let parser: busboy.Busboy
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          files: 1,
          fileSize: limits.maxFileBytes,
          fields: limits.maxFields,
          parts: limits.maxFields + 1,
          fieldSize: MAX_FIELD_BYTES,
        },
      })
    } catch {
      // No multipart content type, or no boundary in it.
      fail('malformed')
      req.resume()
      return resolve()
    }
    const writes: Array<Promise<void>> = []
    const outputs: WriteStream[] = []
    let settled = false
    const finish = (stopped = false) => {
      if (settled) return
      settled = true
      // A body cut short leaves its file stream open: the file written so far is closed, and never read.
      if (stopped) for (const output of outputs) output.destroy()
      Promise.all(writes).then(() => resolve(), reject)
    }

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) return fail('malformed')
      upload.fields.set(name, value)
    })
    parser.on('file', (name, stream, info) => {
      if (name !== limits.fileField || upload.file !== null) {
        fail(name !== limits.fileField ? 'wrong_field' : 'too_many_files')
        stream.resume()
        return
      }
      const file: UploadedFile = { filename: info.filename ?? '', path: path.join(folder, 'upload'), bytes: 0 }
      stream.on('data', (chunk: Buffer) => {
        file.bytes += chunk.length
      })
      stream.on('limit', () => fail('too_large'))
      const output = createWriteStream(file.path)
      outputs.push(output)
      writes.push(
        new Promise<void>((done, failed) => {
          output.on('close', () => done())
          output.on('error', (error) => {
            // Read the rest of the part, so the form's end is still reached.
            stream.unpipe(output)
            stream.resume()
            failed(error)
          })
        }),
      )
      stream.on('error', () => output.destroy())
      stream.pipe(output)
      upload.file = file
    })
    parser.on('filesLimit', () => fail('too_many_files'))
    parser.on('fieldsLimit', () => fail('too_many_fields'))
    parser.on('partsLimit', () => fail('too_many_fields'))
    parser.on('error', () => {
      fail('malformed')
      req.unpipe(parser)
      req.resume()
      finish(true)
    })
    parser.on('close', () => finish())

    let received = 0
    const allowance = limits.maxFileBytes + BODY_ALLOWANCE_BYTES
    req.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received <= allowance || settled) return
      fail('too_large')
      req.unpipe(parser)
      req.pause()
      req.res?.setHeader('Connection', 'close')
      finish(true)
    })
    req.on('aborted', () => {
      fail('malformed')
      finish(true)
    })
    req.pipe(parser)
  })
}
