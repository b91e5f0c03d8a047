import nodemailer from 'nodemailer'
import { ACTION_KIND_LABELS, type ComplianceActionsRepository } from '../data/complianceActions.js'
import type { DpsRepository, EligibilityEvent } from '../data/dps.js'
import type { DigestRepository, Follower, FollowRepository, RedChange } from '../data/follows.js'
import type { RunRepository, SourceRun } from '../data/runs.js'
import type { Logger } from '../logger.js'

export interface MailMessage {
  from: string
  to: string
  subject: string
  text: string
}

/** Where digests go out: SMTP in production (nodemailer), anything with `send` in tests. */
export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string | null }>
}

/** A nodemailer SMTP transport from a URL such as `smtp://user:pass@mail.example.org:587`. */
export function smtpMailer(smtpUrl: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl)
  return {
    send: async (message) => {
      const info = await transport.sendMail(message)
      return { messageId: info.messageId ?? null }
    },
  }
}

/** An overdue compliance action, for the seam the compliance workflow fills (SPEC §2 "compliance action"). */
export interface OverdueAction {
  serviceId: number
  serviceRef: string
  serviceName: string
  title: string
  dueOn: string
  owner: string | null
}

export interface OverdueActionsLookup {
  /** Open actions of these services due before `today`. */
  overdueFor(serviceIds: number[], today: string): Promise<OverdueAction[]>
}

/** The compliance workflow's overdue actions, as the digest reads them. */
export function overdueActionsFrom(actions: Pick<ComplianceActionsRepository, 'overdue'>): OverdueActionsLookup {
  return {
    overdueFor: async (serviceIds, today) => {
      const wanted = new Set(serviceIds)
      return (await actions.overdue(today))
        .filter((action) => wanted.has(action.serviceId))
        .map((action) => ({
          serviceId: action.serviceId,
          serviceRef: action.serviceRef,
          serviceName: action.serviceName,
          title: ACTION_KIND_LABELS[action.kind],
          dueOn: action.dueOn ?? '',
          owner: action.owner,
        }))
    },
  }
}

export interface DigestServiceDeps {
  follows: FollowRepository
  log: DigestRepository
  runs: RunRepository
  dps: DpsRepository
  /** null: SMTP is not configured, and nothing is sent. */
  mailer: Mailer | null
  from: string
  /** The dashboard's address (PUBLIC_URL), so the digest's links open; without it they are paths. */
  publicUrl?: string
  today: () => string
  logger: Logger
  overdueActions?: OverdueActionsLookup
}

/** The overnight run's sources as people name them. */
const SOURCE_NAMES: Partial<Record<string, string>> = {
  cqc: 'CQC',
  fhrs: 'Food hygiene (FSA)',
  companies_house: 'Companies House',
  council_inbox: 'Council files',
}

export interface DigestContent {
  newReds: RedChange[]
  lostEligibility: EligibilityEvent[]
  overdueActions: OverdueAction[]
  failedSources: SourceRun[]
}

export interface Digest extends DigestContent {
  subject: string
  text: string
  itemCount: number
}

export interface DigestRunOutcome {
  runId: number
  /** false when SMTP is not configured or the run is not a published full run. */
  attempted: boolean
  sent: number
  empty: number
  failed: number
  alreadyDone: number
}

const DEFAULT_FROM = 'Provider Risk Dashboard <no-reply@localhost>'

export function mailFrom(configured: string | undefined): string {
  return configured && configured.trim() !== '' ? configured : DEFAULT_FROM
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

const RAG_WORDS: Record<string, string> = { red: 'Red', amber: 'Amber', green: 'Green' }

/** A link to a page of the dashboard: absolute when its address is known. */
export function dashboardLink(publicUrl: string | undefined, path: string): string {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}${path}` : path
}

/** The digest an officer gets for one run: only the services they follow, plus the sources that failed. */
export function composeDigest(
  recipient: string,
  runId: number,
  today: string,
  content: DigestContent,
  publicUrl?: string,
): Digest {
  const link = (ref: string) => dashboardLink(publicUrl, `/services/${encodeURIComponent(ref)}`)
  const sections: string[] = []
  if (content.newReds.length > 0) {
    sections.push(
      [
        `NEW RED (${content.newReds.length})`,
        ...content.newReds.map((change) => {
          const was = change.fromRag ? `was ${RAG_WORDS[change.fromRag] ?? change.fromRag}` : 'newly judged'
          const why = change.reasons.length > 0 ? change.reasons.join('; ') : 'no reason recorded'
          return `- ${change.name} (${change.ref}), ${change.providerName}: ${was}, now Red.\n  Why: ${why}\n  ${link(change.ref)}`
        }),
      ].join('\n'),
    )
  }
  if (content.lostEligibility.length > 0) {
    sections.push(
      [
        `LOST DPS ELIGIBILITY (${content.lostEligibility.length})`,
        ...content.lostEligibility.map((event) => {
          const why = event.failingGates.map((gate) => gate.reason).join('; ') || 'no reason recorded'
          return `- ${event.serviceName} (${event.serviceRef}): ${event.dpsName}, ${event.lotName}.\n  Why: ${why}\n  ${link(event.serviceRef)}`
        }),
      ].join('\n'),
    )
  }
  if (content.overdueActions.length > 0) {
    sections.push(
      [
        `OVERDUE ACTIONS (${content.overdueActions.length})`,
        ...content.overdueActions.map(
          (action) =>
            `- ${action.serviceName} (${action.serviceRef}): ${action.title}, due ${action.dueOn}${action.owner ? `, owner ${action.owner}` : ''}`,
        ),
      ].join('\n'),
    )
  }
  if (content.failedSources.length > 0) {
    sections.push(
      [
        `FAILED SOURCES (${content.failedSources.length})`,
        ...content.failedSources.map(
          (source) =>
            `- ${SOURCE_NAMES[source.source] ?? source.source}: failed last night${
              source.error ? ` (${source.source}: ${source.error})` : ''
            }. Its data stays as it was after its last good run.`,
        ),
      ].join('\n'),
    )
  }
  const itemCount =
    content.newReds.length +
    content.lostEligibility.length +
    content.overdueActions.length +
    content.failedSources.length
  const headline = [
    content.newReds.length ? plural(content.newReds.length, 'new Red') : '',
    content.lostEligibility.length ? `${plural(content.lostEligibility.length, 'service')} lost eligibility` : '',
    content.overdueActions.length ? plural(content.overdueActions.length, 'overdue action') : '',
    content.failedSources.length ? plural(content.failedSources.length, 'failed source') : '',
  ]
    .filter(Boolean)
    .join(', ')
  const text = [
    `Morning digest for ${recipient}: what changed in the overnight refresh (run ${runId}, ${today}) for the services you follow.`,
    ...sections,
    'You receive this because you follow these services on the Provider Risk Dashboard. Unfollow a service on its page to stop.',
  ].join('\n\n')
  return {
    ...content,
    subject: `Provider risk digest ${today}: ${headline || 'no changes'}`,
    text: `${text}\n`,
    itemCount,
  }
}

/**
 * The morning digest (SPEC §7): after each published full run, one email per officer about the services they follow:
 * new Reds, lost DPS eligibility, overdue actions and failed sources. Idempotent: the digest log holds one row per
 * officer per run, so a re-run of the hook (or a second process) sends nothing twice.
 */
export class DigestService {
  private overdueActions: OverdueActionsLookup | undefined

  constructor(private readonly deps: DigestServiceDeps) {
    this.overdueActions = deps.overdueActions
  }

  get enabled(): boolean {
    return this.deps.mailer !== null
  }

  /** Supplies overdue compliance actions (the compliance workflow's repository). */
  useOverdueActions(lookup: OverdueActionsLookup): void {
    this.overdueActions = lookup
  }

  /** The after-publish hook: full runs only, and never fails the run (a published run stays published). */
  async afterPublish(runId: number): Promise<void> {
    try {
      const run = await this.deps.runs.getRun(runId)
      if (!run || run.kind !== 'full' || run.publishedAt === null) return
      await this.sendForRun(runId)
    } catch (error) {
      this.deps.logger.error({ err: error, runId }, 'morning digest failed')
    }
  }

  async sendForRun(runId: number): Promise<DigestRunOutcome> {
    const outcome: DigestRunOutcome = { runId, attempted: false, sent: 0, empty: 0, failed: 0, alreadyDone: 0 }
    const mailer = this.deps.mailer
    if (!mailer) {
      this.deps.logger.info({ runId }, 'SMTP_URL is not set: no morning digest sent')
      return outcome
    }
    outcome.attempted = true
    const followers = await this.deps.follows.followers()
    if (followers.length === 0) return outcome
    const window = await this.windowOf(runId)
    const [reds, events, sourceRuns] = await Promise.all([
      this.deps.log.redChanges(window.after, runId),
      this.deps.dps.eventsSince(window.after),
      this.deps.runs.listSourceRuns(runId),
    ])
    const lost = lostEligibility(events.filter((event) => event.runId !== null && event.runId <= runId))
    const failedSources = sourceRuns.filter((source) => source.status === 'failed')
    const today = this.deps.today()
    for (const follower of followers) {
      if (!(await this.deps.log.claim(runId, follower.userId, follower.email))) {
        outcome.alreadyDone++
        continue
      }
      try {
        const digest = composeDigest(
          follower.email,
          runId,
          today,
          {
            ...(await this.contentFor(follower, reds, lost, today)),
            // The error text (hosts, paths, HTTP codes) is for admins; officers read which source and that it failed.
            failedSources:
              follower.role === 'admin' ? failedSources : failedSources.map((source) => ({ ...source, error: null })),
          },
          this.deps.publicUrl,
        )
        if (digest.itemCount === 0) {
          await this.deps.log.finish(runId, follower.userId, { status: 'empty' })
          outcome.empty++
          continue
        }
        const sent = await mailer.send({
          from: this.deps.from,
          to: follower.email,
          subject: digest.subject,
          text: digest.text,
        })
        await this.deps.log.finish(runId, follower.userId, {
          status: 'sent',
          subject: digest.subject,
          itemCount: digest.itemCount,
          messageId: sent.messageId,
        })
        outcome.sent++
      } catch (error) {
        this.deps.logger.warn({ err: error, runId, userId: follower.userId }, 'morning digest not sent')
        await this.deps.log.finish(runId, follower.userId, { status: 'failed', error: (error as Error).message })
        outcome.failed++
      }
    }
    this.deps.logger.info(outcome, 'morning digest done')
    return outcome
  }

  /** What changed since the previous full run (entries made during the day included); the run alone if it is the first. */
  private async windowOf(runId: number): Promise<{ after: number }> {
    const previous = await this.deps.log.previousFullRunId(runId)
    return { after: previous > 0 ? previous : runId - 1 }
  }

  private async contentFor(
    follower: Follower,
    reds: RedChange[],
    lost: EligibilityEvent[],
    today: string,
  ): Promise<Omit<DigestContent, 'failedSources'>> {
    const followed = new Set(follower.serviceIds)
    return {
      newReds: reds.filter((change) => followed.has(change.serviceId)),
      lostEligibility: lost.filter((event) => followed.has(event.serviceId)),
      overdueActions: this.overdueActions ? await this.overdueActions.overdueFor(follower.serviceIds, today) : [],
    }
  }
}

/** The memberships whose last event in the window is a loss (lost and regained overnight is no news). */
function lostEligibility(events: EligibilityEvent[]): EligibilityEvent[] {
  const last = new Map<number, EligibilityEvent>()
  for (const event of events) last.set(event.membershipId, event)
  return [...last.values()].filter((event) => !event.eligible)
}
