import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import { fileLabelOf, MAX_UPLOAD_BYTES } from '../../src/routes/importPage.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let compliance: SignedInAgent
let admin: SignedInAgent
let assessor: SignedInAgent

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  compliance = await signIn(app, services, 'compliance')
  admin = await signIn(app, services, 'admin')
  assessor = await signIn(app, services, 'assessor')
})

const count = () => services.observations.count()

const INTELLIGENCE_CSV = [
  'service_ref,kind,date,end_date,outcome,reference,notes',
  'SVC-GREEN,contract_concern,2026-10-01,,substantiated,CC-1,Late calls',
  'SVC-GREEN,embargo,2026-13-01,,,EMB-1,',
  'NOPE,unexpected_death,2026-10-02,,,,',
  'SVC-RED,default_notice,01/10/2026,,open,DN-1,"Notice, with a comma"',
].join('\r\n')

async function upload(agent: SignedInAgent, kind: string | null, csv: string | null, filename = 'intel.csv') {
  const csrf = await agent.csrf('/import')
  let req = agent.agent.post('/import').field('_csrf', csrf)
  if (kind !== null) req = req.field('kind', kind)
  return csv === null ? req.attach('file', Buffer.alloc(0), '') : req.attach('file', Buffer.from(csv), filename)
}

/** An import ends with a redirect to the result page (no re-post on reload): the page it leads to. */
async function resultPage(agent: SignedInAgent, posted: { status: number; headers: Record<string, string> }) {
  expect(posted.status).toBe(303)
  expect(posted.headers.location).toBe('/import/result')
  return agent.agent.get('/import/result')
}

describe('who may import', () => {
  it('sends anonymous visitors to sign in', async () => {
    const response = await request(app).get('/import')
    expect(response.status).toBe(302)
    expect(response.headers.location).toBe('/sign-in?returnTo=%2Fimport')
  })

  it('refuses assessors the page and the upload, writing nothing', async () => {
    expect((await assessor.agent.get('/import')).status).toBe(403)
    const before = await count()
    const response = await upload(assessor, 'intelligence', INTELLIGENCE_CSV)
    expect(response.status).toBe(403)
    expect(await count()).toBe(before)
  })

  it('shows the form to compliance and admin, and the Import link to them only', async () => {
    for (const agent of [compliance, admin]) {
      const response = await agent.agent.get('/import')
      expect(response.status).toBe(200)
      expect(response.text).toContain('enctype="multipart/form-data"')
      // The token is in the form body, never in the URL (nor so in the request log).
      const uploadForm = /<form[^>]*data-testid="upload-form"[^>]*>[\s\S]*?<\/form>/.exec(response.text)?.[0] ?? ''
      expect(uploadForm).toContain('action="/import"')
      expect(uploadForm).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">/)
      expect(response.text).not.toMatch(/\?_csrf/)
    }
    expect((await assessor.agent.get('/')).text).not.toContain('href="/import"')
  })
})

describe('uploading a file', () => {
  it('refuses an upload without the CSRF token and writes nothing', async () => {
    const before = await count()
    const response = await compliance.agent
      .post('/import')
      .field('kind', 'intelligence')
      .attach('file', Buffer.from(INTELLIGENCE_CSV), 'intel.csv')
    expect(response.status).toBe(403)
    expect(await count()).toBe(before)
  })

  it('refuses a token in the URL instead of the body, and writes nothing', async () => {
    const before = await count()
    const csrf = await compliance.csrf('/import')
    const response = await compliance.agent
      .post(`/import?_csrf=${encodeURIComponent(csrf)}`)
      .field('kind', 'intelligence')
      .attach('file', Buffer.from(INTELLIGENCE_CSV), 'intel.csv')
    expect(response.status).toBe(403)
    expect(response.text).toContain('Your form was not sent')
    expect(await count()).toBe(before)

    // Only the upload route reads its own token: a multipart post anywhere else still needs one the usual way.
    expect((await compliance.agent.post('/sign-out').field('x', 'y')).status).toBe(403)
  })

  it('imports the good rows and shows the reject report by row, column and reason', async () => {
    const before = await count()
    const response = await resultPage(compliance, await upload(compliance, 'intelligence', INTELLIGENCE_CSV))
    expect(response.status).toBe(200)
    expect(response.text).toContain('data-testid="reject-report"')
    expect(response.text).toMatch(/data-testid="imported">2</)
    expect(response.text).toMatch(/data-testid="rejected">2</)
    expect(response.text).toMatch(/<td[^>]*>3<\/td>\s*<td[^>]*>date<\/td>\s*<td[^>]*>&quot;2026-13-01&quot;/)
    expect(response.text).toMatch(
      /<td[^>]*>4<\/td>\s*<td[^>]*>service_ref<\/td>\s*<td[^>]*>&quot;NOPE&quot; is not a service on the register/,
    )
    expect(await count()).toBe(before + 2)

    const [audit] = await services.audit.list({ limit: 1, action: 'import' })
    expect(audit?.actor).toBe('compliance@test.example')
    expect(audit?.entityId).toBe('intel.csv')
    expect(audit?.after).toMatchObject({ kind: 'intelligence', imported: 2, rejected: 2 })

    // Imported at once: the default notice counts for SVC-RED now.
    const red = await services.dashboard.serviceDetail('SVC-RED')
    expect(red?.risk?.indicators.find((i) => i.key === 'default_notice')?.level).toBe('amber')
  })

  it('imports nothing twice when the same file is uploaded again', async () => {
    const before = await count()
    const response = await resultPage(admin, await upload(admin, 'intelligence', INTELLIGENCE_CSV))
    expect(response.status).toBe(200)
    expect(response.text).toMatch(/data-testid="imported">0</)
    expect(await count()).toBe(before)
  })

  it('shows the result again on reload, without importing again', async () => {
    const posted = await upload(compliance, 'intelligence', INTELLIGENCE_CSV.replaceAll('CC-1', 'CC-RELOAD'))
    const first = await resultPage(compliance, posted)
    expect(first.text).toMatch(/data-testid="imported">1</)
    const audits = await services.audit.count()
    const before = await count()
    const reload = await compliance.agent.get('/import/result')
    expect(reload.status).toBe(200)
    expect(reload.text).toMatch(/data-testid="imported">1</)
    expect(await count()).toBe(before)
    expect(await services.audit.count()).toBe(audits)
    // Nothing imported in this session yet: the result page leads to the form.
    const fresh = await signIn(app, services, 'admin')
    expect((await fresh.agent.get('/import/result')).headers.location).toBe('/import')
  })

  it('shows a file-level problem in the error summary with a 400', async () => {
    const before = await count()
    const response = await upload(compliance, 'assessments', INTELLIGENCE_CSV)
    expect(response.status).toBe(400)
    expect(response.text).toContain('govuk-error-summary')
    expect(response.text).toContain('The file could not be imported')
    expect(response.text).toContain('the header looks like intelligence')
    expect(await count()).toBe(before)
  })

  it('asks for a kind and a file', async () => {
    const before = await count()
    const audits = await services.audit.count()
    const noKind = await upload(compliance, null, INTELLIGENCE_CSV)
    expect(noKind.status).toBe(400)
    expect(noKind.text).toContain('Select what the file holds')
    const unknownKind = await upload(compliance, 'everything', INTELLIGENCE_CSV)
    expect(unknownKind.status).toBe(400)
    const noFile = await upload(compliance, 'intelligence', null)
    expect(noFile.status).toBe(400)
    expect(noFile.text).toContain('Select a CSV file')
    expect(await count()).toBe(before)
    expect(await services.audit.count()).toBe(audits)
  })

  it('refuses a file over the size limit with 413 and the form again', async () => {
    const before = await count()
    const big = `service_ref,kind,date\n${'x'.repeat(MAX_UPLOAD_BYTES + 10)}`
    const response = await upload(compliance, 'intelligence', big)
    expect(response.status).toBe(413)
    expect(response.text).toContain('The file must be smaller than 5 MB')
    expect(await count()).toBe(before)
  })

  it('imports pasted text as a fallback', async () => {
    const csrf = await compliance.csrf('/import')
    const csv = ['service_ref,assessment_date,outcome,assessor', 'SVC-GREEN,2026-09-01,good,A. Assessor'].join('\n')
    const response = await resultPage(
      compliance,
      await compliance.agent.post('/import').type('form').send({ kind: 'assessments', csv, _csrf: csrf }),
    )
    expect(response.status).toBe(200)
    expect(response.text).toMatch(/data-testid="imported">1</)
    const empty = await compliance.agent
      .post('/import')
      .type('form')
      .send({ kind: 'assessments', csv: ' ', _csrf: csrf })
    expect(empty.status).toBe(400)
    expect(empty.text).toContain('Paste the CSV text')
  })
})

describe('reading the upload (multipart, streamed to a temporary file)', () => {
  const boundary = '----x1'
  const body = (parts: string[], end = `\r\n--${boundary}--\r\n`) =>
    Buffer.from(`${parts.map((p) => `--${boundary}\r\n${p}`).join('\r\n')}${end}`)
  const field = (name: string, value: string) => `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`
  const filePart = (name: string, filename: string, content: string) =>
    `Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n${content}`
  const post = async (payload: Buffer, contentType = `multipart/form-data; boundary=${boundary}`) =>
    compliance.agent.post('/import').set('Content-Type', contentType).send(payload)

  it('reads fields and a file, with a quoted boundary, and leaves no temporary file behind', async () => {
    const csrf = await compliance.csrf('/import')
    const before = await count()
    const ownTemp = mkdtempSync(path.join(tmpdir(), 'import-test-'))
    const systemTemp = process.env.TMPDIR
    process.env.TMPDIR = ownTemp
    try {
      const csv =
        'service_ref,kind,date,end_date,outcome,reference,notes\r\nSVC-GREEN,contract_concern,2026-10-03,,substantiated,CC-RAW-1,Raw'
      const response = await compliance.agent
        .post('/import')
        .set('Content-Type', 'multipart/form-data; boundary="a b"')
        .send(
          Buffer.from(
            [field('_csrf', csrf), field('kind', 'intelligence'), filePart('file', 'C:\\exports\\a.csv', csv)]
              .map((p) => `--a b\r\n${p}`)
              .join('\r\n') + '\r\n--a b--\r\n',
          ),
        )
      const page = await resultPage(compliance, response)
      expect(page.text).toMatch(/data-testid="imported">1</)
      expect(page.text).toContain('a.csv (Council intelligence)')
      expect(await count()).toBe(before + 1)
      expect(readdirSync(ownTemp)).toEqual([])
    } finally {
      if (systemTemp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = systemTemp
    }
  })

  it('refuses a body that is not well formed, with a 400 and the reason, writing nothing', async () => {
    const csrf = await compliance.csrf('/import')
    const before = await count()
    const audits = await services.audit.count()
    const noEnd = await post(
      body(
        [field('_csrf', csrf), field('kind', 'intelligence'), 'Content-Disposition: form-data; name="a"\r\n\r\nno end'],
        '',
      ),
    )
    expect(noEnd.status).toBe(400)
    expect(noEnd.text).toContain('govuk-error-summary')
    expect(noEnd.text).toContain('The upload could not be read: try again')
    const tooMany = await post(
      body([field('_csrf', csrf), ...Array.from({ length: 11 }, (_, i) => field(`f${i}`, 'v'))]),
    )
    expect(tooMany.status).toBe(400)
    expect(tooMany.text).toContain('it had more fields than the form')
    // Nothing read, not even the token: the form was not sent.
    expect((await post(Buffer.from('nothing here'))).status).toBe(403)
    expect((await post(body([field('_csrf', csrf)]), 'multipart/form-data')).status).toBe(403)
    expect(await count()).toBe(before)
    expect(await services.audit.count()).toBe(audits)
  })

  it('refuses a file under another name, or a second file, with a 400 on the file field', async () => {
    const csrf = await compliance.csrf('/import')
    const before = await count()
    const csv = INTELLIGENCE_CSV.replaceAll('CC-1', 'CC-WRONG')
    const wrongField = await post(
      body([field('_csrf', csrf), field('kind', 'intelligence'), filePart('upload', 'a.csv', csv)]),
    )
    expect(wrongField.status).toBe(400)
    expect(wrongField.text).toContain('Upload the file with the form’s “Upload a file” field')
    expect(wrongField.text).toContain('id="file-error"')
    const twoFiles = await post(
      body([
        field('_csrf', csrf),
        field('kind', 'intelligence'),
        filePart('file', 'a.csv', csv),
        filePart('file', 'b.csv', csv),
      ]),
    )
    expect(twoFiles.status).toBe(400)
    expect(twoFiles.text).toContain('Upload one file at a time')
    expect(await count()).toBe(before)
  })

  it('cleans file names', () => {
    expect(fileLabelOf('C:\\Users\\me\\exports\\intel.csv')).toBe('intel.csv')
    expect(fileLabelOf('')).toBe('upload.csv')
  })
})
