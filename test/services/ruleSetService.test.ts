import { beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_RULE_SET_DOCUMENT } from '../../src/domain/defaultRuleSet.js'
import { DEFAULT_RULE_SET, type RuleSet } from '../../src/domain/ruleSet.js'
import type { Services } from '../../src/services/container.js'
import { validateRuleSet, validateRuleSetJson } from '../../src/services/ruleSetService.js'
import { createTestServices } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

/** A rule-set document loose enough to break on purpose. */
type RuleSetDraft = {
  indicators: { safeguarding: Record<string, unknown> } & Record<string, unknown>
  multipleConcerns: Record<string, unknown>
} & Record<string, unknown>

let services: Services
let ids: Record<'red' | 'amber' | 'green', number>

/** The default rules with one safeguarding decision already Red: the Amber service (one decision) turns Red. */
function strictSafeguarding(): RuleSet {
  const rules = structuredClone(DEFAULT_RULE_SET)
  rules.indicators.safeguarding.redFrom = 1
  return rules
}

async function counts() {
  return {
    versions: (await services.ruleSets.list()).length,
    runs: (await services.runs.listRuns({ limit: 1000 })).length,
    audit: await services.audit.count(),
  }
}

beforeEach(async () => {
  services = createTestServices()
  ids = await seedSmallBorough(services)
})

describe('validateRuleSet', () => {
  it('accepts the default document', () => {
    expect(validateRuleSet(DEFAULT_RULE_SET_DOCUMENT).ok).toBe(true)
  })

  it('gives each issue its dotted field path', () => {
    const document = structuredClone(DEFAULT_RULE_SET_DOCUMENT) as RuleSetDraft
    document.indicators.safeguarding.amberFrom = 5
    document.multipleConcerns.amberCount = 1
    document.surprise = true
    const result = validateRuleSet(document)
    expect(result.ok).toBe(false)
    if (result.ok) return
    const paths = result.issues.map((issue) => issue.path)
    expect(paths).toContain('indicators.safeguarding.amberFrom')
    expect(paths).toContain('multipleConcerns.amberCount')
    expect(result.issues.find((i) => i.path === 'indicators.safeguarding.amberFrom')?.message).toBe(
      'must not be greater than redFrom',
    )
    expect(result.issues.some((i) => i.path === '' && i.message.includes('surprise'))).toBe(true)
  })

  it('reports JSON that does not parse without throwing', () => {
    const result = validateRuleSetJson('{"name": ')
    expect(result.ok).toBe(false)
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({ path: '', message: expect.stringContaining('not valid JSON') })
  })
})

describe('RuleSetService.preview', () => {
  it('lists the services that would change colour, with counts before and after, and stores nothing', async () => {
    const before = await counts()
    const preview = await services.ruleSetAdmin.preview(strictSafeguarding())
    expect(preview).toMatchObject({
      asOf: services.clock.today(),
      baseVersion: 1,
      servicesAssessed: 3,
      countsBefore: { red: 1, amber: 1, green: 1 },
      countsAfter: { red: 2, amber: 0, green: 1 },
    })
    expect(preview.changes).toEqual([
      expect.objectContaining({
        serviceId: ids.amber,
        ref: 'SVC-AMBER',
        from: 'amber',
        to: 'red',
        reasons: [expect.stringContaining('safeguarding decision')],
        override: null,
      }),
    ])
    expect(await counts()).toEqual(before)
  })

  it('finds no colour change for the rules in force, and counts changes that keep the colour', async () => {
    expect((await services.ruleSetAdmin.preview(DEFAULT_RULE_SET)).changes).toEqual([])
    const heavier = structuredClone(DEFAULT_RULE_SET)
    heavier.score.indicatorWeights.cqc_rating = 7
    const preview = await services.ruleSetAdmin.preview(heavier)
    expect(preview.changes).toEqual([])
    expect(preview.otherwiseChanged).toBeGreaterThan(0)
  })
})

describe('RuleSetService.save', () => {
  it('saves a new version, audits it and recomputes every service at once as a full run', async () => {
    const outcome = await services.ruleSetAdmin.save({
      document: strictSafeguarding(),
      baseVersion: 1,
      note: 'Any safeguarding enquiry is Red',
      actor: 'admin@test.example',
    })
    expect(outcome).toMatchObject({ ok: true, version: 2, recomputeError: null, ragChanges: 1 })
    if (!outcome.ok) return

    const inForce = await services.ruleSetAdmin.inForce()
    expect(inForce).toMatchObject({
      version: 2,
      createdBy: 'admin@test.example',
      note: 'Any safeguarding enquiry is Red',
    })
    expect(inForce.ruleSet.indicators.safeguarding.redFrom).toBe(1)

    const run = await services.runs.getRun(outcome.runId)
    expect(run).toMatchObject({ kind: 'full', status: 'completed', trigger: 'rule set v2', ruleSetVersion: 2 })
    expect(run?.servicesComputed).toBe(3)

    const amber = await services.runs.current(ids.amber)
    expect(amber?.result).toMatchObject({ rag: 'red', ruleSetVersion: 2 })
    expect((await services.runs.current(ids.green))?.result.ruleSetVersion).toBe(2)

    const [entry] = await services.audit.list({ entityType: 'rule_set', limit: 10 })
    expect(entry).toMatchObject({ actor: 'admin@test.example', action: 'rule_set.save', entityId: '2' })
    expect(entry?.before).toMatchObject({ version: 1 })
    expect(entry?.after).toMatchObject({ version: 2, note: 'Any safeguarding enquiry is Red', runId: outcome.runId })
    expect((entry?.after as { document: RuleSet }).document.indicators.safeguarding.redFrom).toBe(1)
  })

  it('refuses an invalid document and writes nothing', async () => {
    const before = await counts()
    const document = structuredClone(DEFAULT_RULE_SET_DOCUMENT) as RuleSetDraft
    document.multipleConcerns.amberCount = 'three'
    const outcome = await services.ruleSetAdmin.save({ document, baseVersion: 1, note: 'x', actor: 'a' })
    expect(outcome).toMatchObject({ ok: false, reason: 'invalid' })
    if (!outcome.ok && outcome.reason === 'invalid') expect(outcome.issues[0]?.path).toBe('multipleConcerns.amberCount')
    expect(await counts()).toEqual(before)
  })

  it('refuses a save on top of a version other than the one previewed', async () => {
    await services.ruleSetAdmin.save({ document: DEFAULT_RULE_SET, baseVersion: 1, note: 'first', actor: 'a' })
    const before = await counts()
    const outcome = await services.ruleSetAdmin.save({
      document: strictSafeguarding(),
      baseVersion: 1,
      note: 'second',
      actor: 'b',
    })
    expect(outcome).toEqual({ ok: false, reason: 'stale', currentVersion: 2 })
    expect(await counts()).toEqual(before)
  })

  it('refuses while a refresh is running, and writes nothing', async () => {
    const refresh = await services.runs.startRun('full', { trigger: 'overnight', ruleSetVersion: 1 })
    const before = await counts()
    const outcome = await services.ruleSetAdmin.save({
      document: strictSafeguarding(),
      baseVersion: 1,
      note: 'x',
      actor: 'a',
    })
    expect(outcome).toMatchObject({ ok: false, reason: 'busy' })
    expect(await counts()).toEqual(before)
    await services.runs.failRun(refresh, 'test over')
  })

  it('lists the history newest first', async () => {
    await services.ruleSetAdmin.save({ document: strictSafeguarding(), baseVersion: 1, note: 'stricter', actor: 'a' })
    const history = await services.ruleSetAdmin.history()
    expect(history.map((v) => [v.version, v.note])).toEqual([
      [2, 'stricter'],
      [1, 'Default rule set (SPEC §3)'],
    ])
  })
})
