import { createReadStream } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { SaxesParser } from 'saxes'
import { checkSourcePath, describeFsError, SourcePathError } from '../sourcePath.js'
import { distinctIds, ResultBuilder, type ConnectorRequest, type ConnectorResult } from '../types.js'
import { toBoolean, toNumber } from './apiConnector.js'
import { canonicalFhrsId, mapFhrsEstablishment, type FhrsEstablishment, type FhrsFacts } from './establishment.js'

export interface FhrsXmlRequest extends ConnectorRequest {
  /** A folder of FHRS open-data XML files (FHRS_XML_DIR). */
  path: string
  /** Names the setting in error messages. */
  variable?: string
}

/** Flat view of one <EstablishmentDetail>: child element text by name, nested ones as "Scores.Hygiene". */
type Fields = Record<string, string>

/**
 * Streams every FHRS open-data XML file in a folder (saxes, chunk by chunk: a file can hold tens of thousands of
 * establishments) and keeps only the establishments whose FHRSID the council has. When an id appears in two files
 * the later rating date wins. A file that cannot be parsed is a warning; the source fails only if every file does.
 */
export async function readFhrsXml(request: FhrsXmlRequest): Promise<ConnectorResult<FhrsFacts>> {
  const result = new ResultBuilder<FhrsFacts>('fhrs_xml')
  const councilIds = new Map(distinctIds(request.ids).map((id) => [canonicalFhrsId(id), id]))
  const found = new Map<string, FhrsEstablishment>()
  const files = await xmlFiles(request.path, request.variable ?? 'FHRS_XML_DIR')

  let failedFiles = 0
  for (const [index, file] of files.entries()) {
    try {
      await readFile(
        file,
        (fields) => {
          result.read++
          const establishment = fromXml(fields)
          if (establishment === null) {
            result.reject(`${path.basename(file)} establishment ${result.read}`, 'no FHRSID', 'FHRSID')
            return
          }
          if (!councilIds.has(establishment.fhrsId)) return
          const previous = found.get(establishment.fhrsId)
          if (!previous || (establishment.ratingDate ?? '') >= (previous.ratingDate ?? '')) {
            found.set(establishment.fhrsId, establishment)
          }
        },
        (warning) => result.warnings.push(`${path.basename(file)}: ${warning}`),
      )
    } catch (error) {
      failedFiles++
      result.warnings.push(`${path.basename(file)} could not be read: ${(error as Error).message}`)
    }
    request.onProgress?.(index + 1, files.length)
  }
  if (failedFiles === files.length)
    throw new Error(`FHRS open data: no file could be read (${result.warnings.join('; ')})`)

  for (const [canonicalId, councilId] of councilIds) {
    const establishment = found.get(canonicalId)
    if (!establishment) {
      result.notFound.push(councilId)
      continue
    }
    const mapped = mapFhrsEstablishment(establishment, request.asOf, 'fhrs_xml')
    result.rejects.push(...mapped.rejects)
    result.records.push({
      match: { kind: 'fhrs', id: councilId },
      observations: mapped.observations,
      facts: mapped.facts,
    })
  }
  return result.build()
}

async function xmlFiles(folder: string, variable: string): Promise<string[]> {
  await checkSourcePath(variable, folder, 'folder')
  let names: string[]
  try {
    names = await readdir(folder)
  } catch (error) {
    throw new SourcePathError(variable, folder, describeFsError(error, 'folder'))
  }
  const files = names
    .filter((name) => name.toLowerCase().endsWith('.xml'))
    .sort()
    .map((name) => path.join(folder, name))
  if (files.length === 0) throw new SourcePathError(variable, folder, 'no .xml files in the folder')
  return files
}

function readFile(file: string, onEstablishment: (fields: Fields) => void, onWarning: (text: string) => void) {
  return new Promise<void>((resolve, reject) => {
    const parser = new SaxesParser()
    const stack: string[] = []
    const header: Fields = {}
    let current: Fields | null = null
    let depthOfCurrent = 0
    let text = ''
    let count = 0

    parser.on('opentag', (tag) => {
      stack.push(tag.name)
      text = ''
      if (tag.name === 'EstablishmentDetail') {
        current = {}
        depthOfCurrent = stack.length
      }
    })
    parser.on('text', (chunk) => {
      text += chunk
    })
    parser.on('cdata', (chunk) => {
      text += chunk
    })
    parser.on('closetag', (tag) => {
      if (current && tag.name === 'EstablishmentDetail') {
        count++
        onEstablishment(current)
        current = null
      } else if (current) {
        const key = stack.slice(depthOfCurrent).join('.')
        if (key !== '' && current[key] === undefined) current[key] = text.trim()
      } else if (stack[stack.length - 2] === 'Header') {
        header[tag.name] = text.trim()
      }
      stack.pop()
      text = ''
    })

    const input = createReadStream(file, { encoding: 'utf8' })
    input.on('data', (chunk) => {
      try {
        parser.write(chunk as string)
      } catch (error) {
        input.destroy()
        reject(error)
      }
    })
    input.on('error', reject)
    input.on('end', () => {
      try {
        parser.close()
      } catch (error) {
        reject(error)
        return
      }
      if (header.ReturnCode !== undefined && header.ReturnCode !== 'Success') {
        onWarning(`header ReturnCode is "${header.ReturnCode}"`)
      }
      const itemCount = header.ItemCount === undefined ? NaN : Number(header.ItemCount)
      if (Number.isInteger(itemCount) && itemCount !== count) {
        onWarning(`header says ${itemCount} establishments but the file holds ${count}`)
      }
      resolve()
    })
  })
}

function fromXml(fields: Fields): FhrsEstablishment | null {
  const rawId = fields.FHRSID ?? ''
  if (!/^\d+$/.test(rawId)) return null
  const value = (name: string) => (fields[name] === undefined || fields[name] === '' ? null : (fields[name] as string))
  return {
    fhrsId: canonicalFhrsId(rawId),
    businessName: value('BusinessName'),
    businessType: value('BusinessType'),
    businessTypeId: toNumber(value('BusinessTypeID')),
    postCode: value('PostCode'),
    ratingValue: value('RatingValue'),
    ratingDate: value('RatingDate'),
    localAuthorityCode: value('LocalAuthorityCode'),
    localAuthorityName: value('LocalAuthorityName'),
    schemeType: value('SchemeType'),
    newRatingPending: toBoolean(value('NewRatingPending')),
    scores: {
      hygiene: toNumber(value('Scores.Hygiene')),
      structural: toNumber(value('Scores.Structural')),
      confidenceInManagement: toNumber(value('Scores.ConfidenceInManagement')),
    },
  }
}
