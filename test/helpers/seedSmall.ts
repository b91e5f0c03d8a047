import type { NewObservation } from '../../src/domain/observation.js'
import type { Services } from '../../src/services/container.js'

/** Three services with known facts: one Red (CQC Inadequate), one Amber (safeguarding), one Green. */
export async function seedSmallBorough(services: Services): Promise<Record<'red' | 'amber' | 'green', number>> {
  const [red, amber, green] = await services.serviceRepository.upsertMany([
    {
      ref: 'SVC-RED',
      name: 'Elm House',
      providerName: 'Evil <script>alert(1)</script> Care Ltd',
      cqcProviderId: '1-100000001',
      cqcLocationId: '1-200000001',
      serviceType: 'care_home_residential',
      area: 'North',
      capacity: 30,
      contractStatus: 'contracted',
    },
    {
      ref: 'SVC-AMBER',
      name: 'Oak Homecare',
      providerName: 'Oak Care Ltd',
      cqcProviderId: '1-100000002',
      cqcLocationId: '1-200000002',
      serviceType: 'home_care',
      area: 'South',
      capacity: 500,
      contractStatus: 'contracted',
    },
    {
      ref: 'SVC-GREEN',
      name: 'Ash Lodge',
      providerName: 'Ash Care Ltd',
      cqcProviderId: '1-100000003',
      cqcLocationId: '1-200000003',
      serviceType: 'care_home_nursing',
      area: 'North',
      capacity: 40,
      contractStatus: 'spot',
    },
  ])
  const ids = { red: red!.id, amber: amber!.id, green: green!.id }
  const rating = (serviceId: number, value: string, observedOn: string): NewObservation => ({
    serviceId,
    indicator: 'cqc_rating',
    source: 'cqc_api',
    observedOn,
    value,
    detail: { keyQuestions: {} },
    naturalKey: `cqc:${serviceId}:${observedOn}`,
  })
  await services.observations.append([
    rating(ids.red, 'inadequate', '2026-03-14'),
    rating(ids.amber, 'good', '2025-06-01'),
    rating(ids.green, 'good', '2025-01-10'),
    {
      serviceId: ids.amber,
      indicator: 'safeguarding',
      source: 'council_csv',
      observedOn: '2026-10-01',
      value: 'decision',
      reference: 'SG-SECRET-REF',
      notes: 'Confidential case note about a resident',
      naturalKey: 'council:safeguarding_decision:SG-1',
    },
  ])
  await services.risk.recomputeServices(Object.values(ids), 'test seed')
  const runId = await services.runs.startRun('full', { trigger: 'test' })
  const rules = await services.risk.activeRuleSet()
  const computed = await services.risk.stageAll(runId, rules, services.clock.today())
  await services.risk.publishFull(runId, computed)
  return ids
}
