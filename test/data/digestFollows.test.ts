import { beforeEach, expect, it } from 'vitest'
import type { Repositories, Store } from '../../src/data/store.js'
import type { RiskResult } from '../../src/domain/riskResult.js'
import { describeEachStore } from '../helpers/stores.js'

function result(rag: 'red' | 'amber' | 'green', reason: string): RiskResult {
  return {
    rag,
    computedRag: rag,
    score: 1,
    reasons: [reason],
    indicators: [],
    override: null,
    flags: { multipleConcerns: false, recentlyDowngraded: false, notYetAssessed: false, deteriorating: false },
    ruleSetVersion: 1,
    asOf: '2026-01-01',
  }
}

describeEachStore('FollowRepository and DigestRepository', (openStore) => {
  let store: Store
  let follows: Repositories['follows']
  let digests: Repositories['digests']
  let runs: Repositories['runs']
  let officer: number
  let assessor: number
  let elm: number
  let oak: number

  beforeEach(async () => {
    store = await openStore()
    follows = store.repositories.follows
    digests = store.repositories.digests
    runs = store.repositories.runs
    const users = store.repositories.users
    officer = (await users.create({ email: 'officer@example.org', role: 'compliance', passwordHash: 'x' }, 'test')).id
    assessor = (await users.create({ email: 'assessor@example.org', role: 'assessor', passwordHash: 'x' }, 'test')).id
    const upserted = await store.repositories.services.upsertMany(
      ['Elm', 'Oak'].map((name) => ({
        ref: name.toUpperCase(),
        name,
        providerName: `${name} Ltd`,
        serviceType: 'home_care' as const,
        area: 'North',
        contractStatus: 'contracted' as const,
      })),
    )
    elm = upserted[0]!.id
    oak = upserted[1]!.id
  })

  it('follows once, unfollows, and audits both', async () => {
    expect(await follows.follow(officer, elm, 'officer@example.org')).toBe(true)
    expect(await follows.follow(officer, elm, 'officer@example.org')).toBe(false)
    expect(await follows.isFollowing(officer, elm)).toBe(true)
    expect(await follows.followerCount(elm)).toBe(1)
    expect((await follows.followedBy(officer)).map((f) => f.ref)).toEqual(['ELM'])
    expect(await follows.unfollow(officer, elm, 'officer@example.org')).toBe(true)
    expect(await follows.unfollow(officer, elm, 'officer@example.org')).toBe(false)
    expect(await follows.isFollowing(officer, elm)).toBe(false)
    const audit = await store.repositories.audit.list({ entityType: 'service', entityId: elm, limit: 10 })
    expect(audit.map((entry) => entry.action).sort()).toEqual(['service.follow', 'service.unfollow'])
    expect(audit.every((entry) => entry.actor === 'officer@example.org')).toBe(true)
  })

  it('lists followers of the follower roles only, enabled, with their services', async () => {
    await follows.follow(officer, elm, 'o')
    await follows.follow(officer, oak, 'o')
    await follows.follow(assessor, elm, 'a')
    expect(await follows.followers()).toEqual([
      { userId: officer, email: 'officer@example.org', role: 'compliance', serviceIds: [elm, oak] },
    ])
    await store.repositories.users.setDisabled(officer, true, 'admin')
    expect(await follows.followers()).toEqual([])
  })

  it('claims a digest once per officer and run; a failed one may be claimed again', async () => {
    const runId = await runs.startRun('full')
    expect(await digests.claim(runId, officer, 'officer@example.org')).toBe(true)
    expect(await digests.claim(runId, officer, 'officer@example.org')).toBe(false)
    await digests.finish(runId, officer, { status: 'failed', error: 'connection refused' })
    expect(await digests.claim(runId, officer, 'officer@example.org')).toBe(true)
    await digests.finish(runId, officer, { status: 'sent', subject: 'Digest', itemCount: 2, messageId: '<m@x>' })
    expect(await digests.claim(runId, officer, 'officer@example.org')).toBe(false)
    expect(await digests.forRun(runId)).toEqual([
      expect.objectContaining({ status: 'sent', subject: 'Digest', itemCount: 2, messageId: '<m@x>', error: null }),
    ])
    const audit = await store.repositories.audit.list({ action: 'digest.send', limit: 10 })
    expect(audit).toHaveLength(1)
  })

  it('finds services that turned Red in a run window and are still Red', async () => {
    const publish = async (kind: 'full' | 'entry', computed: Array<[number, 'red' | 'amber' | 'green']>) => {
      const runId = await runs.startRun(kind)
      await runs.stageAndPublish(
        runId,
        computed.map(([serviceId, rag]) => ({ serviceId, result: result(rag, `${rag} because`) })),
      )
      return runId
    }
    const first = await publish('full', [
      [elm, 'green'],
      [oak, 'red'],
    ])
    await publish('entry', [[elm, 'red']])
    await publish('entry', [[oak, 'green']])
    const second = await publish('full', [[elm, 'red']])
    expect(await digests.previousFullRunId(second)).toBe(first)
    expect(await digests.previousFullRunId(first)).toBe(0)
    const reds = await digests.redChanges(first, second)
    expect(reds.map((r) => [r.ref, r.fromRag, r.reasons])).toEqual([['ELM', 'green', ['red because']]])
  })

  it('a follow made in a write that fails later is not kept, nor its audit entry', async () => {
    await expect(
      store.write(async (repositories) => {
        await repositories.follows.follow(officer, elm, 'o')
        throw new Error('later write failed')
      }),
    ).rejects.toThrow('later write failed')
    expect(await follows.isFollowing(officer, elm)).toBe(false)
    expect(await store.repositories.audit.count({ action: 'service.follow' })).toBe(0)
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })
