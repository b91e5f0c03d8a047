import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { createTestServices, fixedClock } from '../helpers/appHarness.js'
import { recordedPath } from '../helpers/recordedServer.js'
import { SourceServer } from '../helpers/sourceServer.js'

/**
 * The registered manager is state that comes and goes: a post that falls vacant a second time, or a manager who comes
 * back, must show on the night CQC says so (not be dropped as "already known").
 */
let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'refresh-manager-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const SERVICE = {
  ref: 'SVC-WILLOW',
  name: 'Willow Court',
  providerName: 'Willow Ltd',
  cqcLocationId: '1-111',
  serviceType: 'care_home_residential' as const,
  area: 'East',
  contractStatus: 'contracted' as const,
}

async function managerIndicator(services: Services) {
  const service = await services.serviceRepository.findByRef(SERVICE.ref)
  return (await services.runs.current(service!.id))?.result.indicators.find((i) => i.key === 'manager_vacancy')
}

describe('registered manager episodes across nights', () => {
  it('from the monthly CQC file: vacant, filled, vacant again', async () => {
    const header = (await readFile(recordedPath('cqc-hsca-active-locations-header-first36.csv'), 'utf8')).trim()
    const columns = header.split(',')
    const cqcFile = path.join(dir, 'hsca.csv')
    const writeMonth = (manager: string) => {
      const values: Record<string, string> = {
        'Location ID': '1-111',
        'Location Name': 'Willow Court',
        'Registered manager': manager,
        'Location Latest Overall Rating': 'Good',
        'Publication Date': '14/03/2025',
      }
      return writeFile(cqcFile, `${header}\n${columns.map((column) => values[column] ?? '').join(',')}\n`)
    }
    const services = createTestServices({ env: { CQC_FILE: cqcFile }, today: '2026-01-05' })
    const clock = services.clock as ReturnType<typeof fixedClock>
    await services.serviceRepository.upsertMany([SERVICE])
    const night = async (day: string, manager: string) => {
      clock.set(day)
      await writeMonth(manager)
      await new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'test' })
      return managerIndicator(services)
    }

    expect(await night('2026-01-05', '')).toMatchObject({ level: 'amber', date: '2026-01-05' })
    expect(await night('2026-02-05', '')).toMatchObject({ level: 'amber', date: '2026-01-05' })
    expect(await night('2026-03-05', 'Ada Lovelace')).toMatchObject({ level: 'green', date: '2026-03-05' })
    expect(await night('2026-05-05', '')).toMatchObject({ level: 'amber', date: '2026-05-05' })
    expect(await night('2026-05-06', '')).toMatchObject({ level: 'amber', date: '2026-05-05' })
    const service = await services.serviceRepository.findByRef(SERVICE.ref)
    const stored = (await services.observations.listLive(service!.id)).filter((o) => o.indicator === 'manager_vacancy')
    expect(stored.map((o) => [o.observedOn, o.value])).toEqual([
      ['2026-01-05', 'vacant'],
      ['2026-03-05', 'in_post'],
      ['2026-05-05', 'vacant'],
    ])
  })

  it('from the CQC API: a manager who leaves and comes back is in post again', async () => {
    const server = await SourceServer.start()
    try {
      const services = createTestServices({ env: { CQC_API_BASE: server.env().CQC_API_BASE! }, today: '2026-01-05' })
      const clock = services.clock as ReturnType<typeof fixedClock>
      await services.serviceRepository.upsertMany([SERVICE])
      const night = async (day: string) => {
        clock.set(day)
        server.cqcChanged.add('1-111')
        await new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'test' })
        return managerIndicator(services)
      }
      // The recorded location lists John Surel Bayliss as registered manager.
      expect(await night('2026-01-05')).toMatchObject({ level: 'green' })
      server.cqcManagerAbsentSince.set('1-111', '2026-02-01')
      expect(await night('2026-02-10')).toMatchObject({ level: 'amber', date: '2026-02-01' })
      server.cqcManagerAbsentSince.delete('1-111')
      expect(await night('2026-03-10')).toMatchObject({ level: 'green', date: '2026-03-10' })
      expect(await night('2026-03-11')).toMatchObject({ level: 'green', date: '2026-03-10' })
    } finally {
      await server.close()
    }
  })
})
