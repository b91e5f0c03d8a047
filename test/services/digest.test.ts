import type { AddressInfo } from 'node:net'
import type { Express } from 'express'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DigestRepository } from '../../src/data/follows.js'
import { UsersRepository } from '../../src/data/users.js'
import type { Services } from '../../src/services/container.js'
import { composeDigest } from '../../src/services/digestService.js'
import { RefreshService, type SourceStep } from '../../src/services/refreshService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

interface ReceivedMail {
  from: string
  to: string[]
  subject: string
  body: string
}

/** A real SMTP server on 127.0.0.1 that keeps what arrives. */
async function startSmtpServer(): Promise<{ server: SMTPServer; port: number; received: ReceivedMail[] }> {
  const received: ReceivedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => (raw += chunk))
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          ...parseMessage(raw),
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  return { server, port, received }
}

/** Headers unfolded, the text body decoded from quoted-printable (what nodemailer uses for long lines). */
function parseMessage(raw: string): { subject: string; body: string } {
  const split = raw.indexOf('\r\n\r\n')
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const subject = /^Subject: (.*)$/m.exec(headers)?.[1] ?? ''
  let body = raw.slice(split + 4)
  if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
    body = Buffer.from(
      body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8')
  }
  return { subject, body }
}

const failingCqc: SourceStep = {
  source: 'cqc',
  label: 'CQC',
  configured: true,
  run: async () => {
    throw new Error('CQC API answered 503')
  },
}

async function overnightRun(services: Services, steps: SourceStep[] = []): Promise<number> {
  return (await new RefreshService(services, steps).run({ trigger: 'test overnight' })).runId
}

async function embargo(services: Services, ref: string): Promise<void> {
  const service = await services.serviceRepository.findByRef(ref)
  await services.observations.append([
    {
      serviceId: service!.id,
      indicator: 'embargo',
      source: 'council_form',
      observedOn: '2026-11-20',
      value: 'embargo',
      reference: `EMB-${ref}`,
      naturalKey: `council:embargo:EMB-${ref}`,
    },
  ])
}

describe('the morning digest over real SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>
  let services: Services
  let app: Express
  let compliance: SignedInAgent
  let admin: SignedInAgent

  beforeAll(async () => {
    smtp = await startSmtpServer()
    services = createTestServices({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'Risk Dashboard <dashboard@council.example>',
        PUBLIC_URL: 'https://risk.council.example/',
      },
    })
    await seedSmallBorough(services)
    app = appWithAllRoutes(services)
    compliance = await signIn(app, services, 'compliance')
    admin = await signIn(app, services, 'admin')
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => smtp.server.close(() => resolve()))
  })

  it('follows a service with a POST carrying the CSRF token', async () => {
    const page = await compliance.agent.get('/services/SVC-AMBER')
    expect(page.text).toContain('Follow this service')
    const noToken = await compliance.agent.post('/services/SVC-AMBER/follow').type('form').send({})
    expect(noToken.status).toBe(403)
    const followed = await compliance.agent
      .post('/services/SVC-AMBER/follow')
      .type('form')
      .send({ _csrf: await compliance.csrf('/services/SVC-AMBER') })
    expect(followed.status).toBe(303)
    expect(followed.headers.location).toBe('/services/SVC-AMBER#follow')
    expect((await compliance.agent.get('/services/SVC-AMBER')).text).toContain('Unfollow this service')
    const adminFollow = await admin.agent
      .post('/services/SVC-GREEN/follow')
      .type('form')
      .send({ _csrf: await admin.csrf('/services/SVC-GREEN') })
    expect(adminFollow.status).toBe(303)
  })

  it('does not let an assessor follow', async () => {
    const assessor = await signIn(app, services, 'assessor')
    const page = await assessor.agent.get('/services/SVC-AMBER')
    expect(page.text).not.toContain('data-testid="follow-button"')
    const response = await assessor.agent
      .post('/services/SVC-AMBER/follow')
      .type('form')
      .send({ _csrf: await assessor.csrf('/services/SVC-AMBER') })
    expect(response.status).toBe(403)
  })

  it('sends the follower of a service the refresh turned Red one digest naming it and why (acceptance)', async () => {
    await embargo(services, 'SVC-AMBER')
    const runId = await overnightRun(services)
    expect(smtp.received).toHaveLength(1)
    const mail = smtp.received[0] as ReceivedMail
    expect(mail.to).toEqual(['compliance@test.example'])
    expect(mail.from).toBe('dashboard@council.example')
    expect(mail.subject).toContain('1 new Red')
    expect(mail.body).toContain('NEW RED (1)')
    expect(mail.body).toContain('Oak Homecare (SVC-AMBER), Oak Care Ltd: was Amber, now Red.')
    expect(mail.body).toMatch(/Why: .*[Ee]mbargo/)
    // A link that opens from the email: PUBLIC_URL, then the service page.
    expect(mail.body).toMatch(/\n {2}https:\/\/risk\.council\.example\/services\/SVC-AMBER\r?\n/)
    expect(mail.body).not.toContain('Ash Lodge')

    // The admin's service stayed Green and no source failed: nothing to say, nothing sent, and that is logged.
    const log = await services.digest.sendForRun(runId)
    expect(log).toMatchObject({ sent: 0, alreadyDone: 2 })
    expect(smtp.received).toHaveLength(1)
    const statuses = (await new DigestRepository(services.db).forRun(runId))
      .map((entry) => [entry.recipient, entry.status])
      .sort()
    expect(statuses).toEqual([
      ['admin@test.example', 'empty'],
      ['compliance@test.example', 'sent'],
    ])

    // A second overnight run the same night has no new Red to tell: nothing more is sent to anyone.
    const rerun = await overnightRun(services)
    expect(rerun).toBeGreaterThan(runId)
    expect(smtp.received).toHaveLength(1)
    expect((await new DigestRepository(services.db).forRun(rerun)).map((entry) => entry.status)).toEqual([
      'empty',
      'empty',
    ])
  })

  it('tells every follower about failed sources, and does not repeat yesterday’s news', async () => {
    await overnightRun(services, [failingCqc])
    expect(smtp.received).toHaveLength(3)
    const [toCompliance, toAdmin] = ['compliance@test.example', 'admin@test.example'].map((address) =>
      smtp.received.slice(1).find((mail) => mail.to.includes(address)),
    )
    expect(toAdmin?.body).toContain('FAILED SOURCES (1)')
    expect(toAdmin?.body).toContain('cqc: CQC API answered 503')
    expect(toCompliance?.body).toContain('FAILED SOURCES (1)')
    expect(toCompliance?.body).toContain('- CQC: failed last night. Its data stays as it was')
    expect(toCompliance?.body).not.toContain('503')
    expect(toCompliance?.body).not.toContain('NEW RED')
  })

  it('sends nothing after an entry run (only overnight runs)', async () => {
    const service = await services.serviceRepository.findByRef('SVC-GREEN')
    await embargo(services, 'SVC-GREEN')
    await services.risk.recomputeServices([service!.id], 'test entry')
    expect(smtp.received).toHaveLength(3)
  })

  it('reports what turned Red during the day at the next overnight run, and stops after an unfollow', async () => {
    await overnightRun(services)
    expect(smtp.received).toHaveLength(4)
    expect(smtp.received[3]?.to).toEqual(['admin@test.example'])
    expect(smtp.received[3]?.body).toContain('Ash Lodge (SVC-GREEN), Ash Care Ltd: was Green, now Red.')

    const unfollowed = await compliance.agent
      .post('/services/SVC-AMBER/unfollow')
      .type('form')
      .send({ _csrf: await compliance.csrf('/services/SVC-AMBER') })
    expect(unfollowed.status).toBe(303)
    expect(
      await services.follows.followedBy(
        (await new UsersRepository(services.db).findByEmail('compliance@test.example'))!.id,
      ),
    ).toEqual([])
    await overnightRun(services, [failingCqc])
    expect(smtp.received.slice(4).map((mail) => mail.to)).toEqual([['admin@test.example']])
  })
})

describe('without SMTP_URL', () => {
  it('sends nothing and says so on the service page', async () => {
    const services = createTestServices()
    await seedSmallBorough(services)
    const app = appWithAllRoutes(services)
    const compliance = await signIn(app, services, 'compliance')
    await compliance.agent
      .post('/services/SVC-AMBER/follow')
      .type('form')
      .send({ _csrf: await compliance.csrf('/services/SVC-AMBER') })
    expect(services.digest.enabled).toBe(false)
    expect((await compliance.agent.get('/services/SVC-AMBER')).text).toContain('email is not set up')
    await embargo(services, 'SVC-AMBER')
    const runId = await overnightRun(services)
    expect(await services.digest.sendForRun(runId)).toMatchObject({ attempted: false, sent: 0 })
  })
})

describe('composeDigest', () => {
  it('lists each kind of news with its reason', () => {
    const digest = composeDigest('a@b.example', 7, '2026-11-23', {
      newReds: [],
      lostEligibility: [
        {
          id: 1,
          membershipId: 1,
          runId: 7,
          at: '2026-11-23T02:00:00Z',
          eligible: false,
          failingGates: [{ gate: 'cqcRating', reason: 'CQC rating Requires improvement is below Good' }],
          serviceId: 1,
          serviceRef: 'S-1',
          serviceName: 'Elm',
          dpsId: 1,
          dpsName: 'Home Care DPS',
          lotId: 1,
          lotName: 'North',
        } as never,
      ],
      overdueActions: [
        {
          serviceId: 1,
          serviceRef: 'S-1',
          serviceName: 'Elm',
          title: 'Action plan',
          dueOn: '2026-11-01',
          owner: 'Sam',
        },
      ],
      failedSources: [],
    })
    expect(digest.itemCount).toBe(2)
    expect(digest.subject).toBe('Provider risk digest 2026-11-23: 1 service lost eligibility, 1 overdue action')
    expect(digest.text).toContain(
      'Elm (S-1): Home Care DPS, North.\n  Why: CQC rating Requires improvement is below Good',
    )
    expect(digest.text).toContain('Elm (S-1): Action plan, due 2026-11-01, owner Sam')
  })
})
