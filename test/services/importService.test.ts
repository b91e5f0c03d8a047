import { Readable } from 'node:stream'
import { beforeEach, describe, expect, it } from 'vitest'
import type { NewAuditEntry } from '../../src/data/audit.js'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { ObservationRepository } from '../../src/data/observations.js'
import { RuleSetRepository } from '../../src/data/ruleSets.js'
import { RunRepository } from '../../src/data/runs.js'
import { ServiceRepository } from '../../src/data/services.js'
import { ImportService, type ImportOptions } from '../../src/services/importService.js'
import { RiskService } from '../../src/services/riskService.js'

const TODAY = '2026-03-14'
const CSV_IMPORT: ImportOptions = { actor: 'officer@example.org', source: 'council_csv', fileLabel: 'test.csv' }

const SERVICES_CSV = [
  'service_ref,name,provider_name,cqc_location_id,cqc_provider_id,companies_house_number,fhrs_id,service_type,area,capacity,contract_status',
  'HC-001,Acorn Home Care,Acorn Care Ltd,1-1000210669,1-101641451,6070408,,Domiciliary care service,North,350,contracted',
  'CH-002,Birch House,Birch Homes,1-125856395,,,1583332,care_home_nursing,South,40,spot',
  'SL-003,Cedar Supported Living,Acorn Care Ltd,,1-101641451,,,supported living,North,,off_contract',
].join('\r\n')

describe('ImportService', () => {
  let db: Db
  let services: ServiceRepository
  let observations: ObservationRepository
  let runs: RunRepository
  let importer: ImportService
  let audited: NewAuditEntry[]

  beforeEach(() => {
    db = openTestDatabase()
    services = new ServiceRepository(db)
    observations = new ObservationRepository(db)
    runs = new RunRepository(db)
    const risk = new RiskService({
      services,
      observations,
      runs,
      ruleSets: new RuleSetRepository(db),
      today: () => TODAY,
    })
    audited = []
    importer = new ImportService({
      services,
      observations,
      risk,
      today: () => TODAY,
      audit: async (entry) => {
        audited.push(entry)
      },
    })
  })

  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  const idOf = async (ref: string) => (await services.findByRef(ref))?.id as number
  const ragOf = async (ref: string) => (await runs.current(await idOf(ref)))?.result.rag

  async function importRegister() {
    const result = await importer.importFile('services', SERVICES_CSV, CSV_IMPORT)
    expect(result.rejects).toEqual([])
    return result
  }

  describe('services', () => {
    it('creates the register and judges every new service', async () => {
      const result = await importRegister()

      expect(result).toEqual({
        kind: 'services',
        rowsRead: 3,
        imported: 3,
        duplicates: 0,
        rejects: [],
        fileError: null,
        runId: expect.any(Number),
      })
      expect(await services.findByRef('HC-001')).toMatchObject({
        name: 'Acorn Home Care',
        providerName: 'Acorn Care Ltd',
        cqcLocationId: '1-1000210669',
        cqcProviderId: '1-101641451',
        companiesHouseNumber: '06070408',
        serviceType: 'home_care',
        capacity: 350,
        contractStatus: 'contracted',
      })
      // Both Acorn services share one provider, matched by CQC provider id.
      expect(count('providers')).toBe(2)
      expect(await runs.getRun(result.runId as number)).toMatchObject({ kind: 'entry', status: 'completed' })
      for (const ref of ['HC-001', 'CH-002', 'SL-003']) expect(await ragOf(ref)).toBeDefined()
    })

    it('adds nothing when the same file is imported again, and updates what changed', async () => {
      await importRegister()
      const runsBefore = count('refresh_runs')

      const again = await importer.importFile('services', SERVICES_CSV, CSV_IMPORT)
      expect(again).toMatchObject({ imported: 0, duplicates: 3, runId: null })
      expect(count('refresh_runs')).toBe(runsBefore)

      const edited = SERVICES_CSV.replace(
        'Birch House,Birch Homes,1-125856395,,,1583332,care_home_nursing,South,40',
        'Birch House,Birch Homes,1-125856395,,,1583332,care_home_nursing,East,44',
      )
      const update = await importer.importFile('services', edited, CSV_IMPORT)
      expect(update).toMatchObject({ imported: 1, duplicates: 2, runId: expect.any(Number) })
      expect(await services.findByRef('CH-002')).toMatchObject({ area: 'East', capacity: 44 })
      expect(await services.count()).toBe(3)
    })

    it('names a service by CQC location id: updates the one there, or creates one under that id', async () => {
      await importRegister()
      const csv = [
        'cqc_location_id,name,provider_name,service_type,area,contract_status',
        '1-1000210669,Acorn Home Care (renamed),Acorn Care Ltd,home_care,North,contracted',
        '1-999,New Place,New Provider,extra_care,West,spot',
      ].join('\n')

      const result = await importer.importFile('services', csv, CSV_IMPORT)

      expect(result).toMatchObject({ imported: 2, rejects: [] })
      expect((await services.findByRef('HC-001'))?.name).toBe('Acorn Home Care (renamed)')
      expect(await services.findByRef('1-999')).toMatchObject({ name: 'New Place', cqcLocationId: '1-999' })
    })

    it('imports the good rows and reports each bad one by row, column and reason', async () => {
      await importRegister()
      const csv = [
        'service_ref,name,provider_name,cqc_location_id,service_type,area,contract_status',
        'OK-1,Good One,Good Provider,,home_care,North,spot',
        'BAD-2,Bad Type,Good Provider,,castle,North,spot',
        'OK-1,Same Ref Again,Good Provider,,home_care,North,spot',
        'BAD-4,Steals A Location,Other,1-1000210669,home_care,North,spot',
        'OK-5,Good Two,Good Provider,1-555,home_care,South,contracted',
        'BAD-6,Location Twice,Good Provider,1-555,home_care,South,contracted',
      ].join('\n')

      const result = await importer.importFile('services', csv, CSV_IMPORT)

      expect(result).toMatchObject({ rowsRead: 6, imported: 2, duplicates: 0, fileError: null })
      expect(result.rejects.map((r) => [r.rowNumber, r.column])).toEqual([
        [3, 'service_type'],
        [4, 'service_ref'],
        [5, 'cqc_location_id'],
        [7, 'cqc_location_id'],
      ])
      expect(result.rejects[1]?.reason).toMatch(/row 2/)
      expect(result.rejects[2]?.reason).toMatch(/HC-001/)
      expect(await services.findByRef('OK-1')).toMatchObject({ name: 'Good One' })
      expect(await services.findByRef('OK-5')).toMatchObject({ cqcLocationId: '1-555' })
      for (const ref of ['BAD-2', 'BAD-4', 'BAD-6']) expect(await services.findByRef(ref)).toBeNull()
      expect((await services.findByRef('HC-001'))?.cqcLocationId).toBe('1-1000210669')
    })

    it('refuses a reference that cannot be part of the service page address', async () => {
      const csv = [
        'service_ref,name,provider_name,service_type,area,contract_status',
        'NB/HC/1,Slashed,Good Provider,home_care,North,spot',
        'NB-HC-2?x,Questioned,Good Provider,home_care,North,spot',
        'NB HC 3,Spaced Out,Good Provider,home_care,North,spot',
      ].join('\n')

      const result = await importer.importFile('services', csv, CSV_IMPORT)

      expect(result).toMatchObject({ rowsRead: 3, imported: 1 })
      expect(result.rejects.map((r) => [r.rowNumber, r.column])).toEqual([
        [2, 'service_ref'],
        [3, 'service_ref'],
      ])
      expect(result.rejects[0]?.reason).toBe(
        '"NB/HC/1" contains "/", which cannot be part of a web address: use - instead',
      )
      expect(await services.findByRef('NB HC 3')).toMatchObject({ name: 'Spaced Out' })
    })
  })

  describe('intelligence', () => {
    const EMBARGO = [
      'service_ref,kind,date,end_date,outcome,reference,notes',
      'HC-001,embargo,01/03/2026,,,EMB-1,Missed visits',
    ].join('\n')

    it('turns a service red when an embargo is imported, and back when a later export lifts it', async () => {
      await importRegister()
      const before = await ragOf('HC-001')
      expect(before).not.toBe('red')

      const result = await importer.importFile('intelligence', EMBARGO, CSV_IMPORT)

      expect(result).toMatchObject({ kind: 'intelligence', rowsRead: 1, imported: 1, duplicates: 0, rejects: [] })
      expect(await ragOf('HC-001')).toBe('red')
      expect((await runs.current(await idOf('HC-001')))?.runId).toBe(result.runId)
      const [embargo] = await observations.listLive(await idOf('HC-001'))
      expect(embargo).toMatchObject({
        indicator: 'embargo',
        source: 'council_csv',
        observedOn: '2026-03-01',
        endDate: null,
        reference: 'EMB-1',
        notes: 'Missed visits',
        enteredBy: 'officer@example.org',
      })
      const changes = await runs.changesSince(result.runId as number)
      expect(changes.map((c) => [c.fromRag, c.toRag])).toEqual([[before, 'red']])

      const lifted = await importer.importFile(
        'intelligence',
        EMBARGO.replace('01/03/2026,,', '01/03/2026,10/03/2026,'),
        CSV_IMPORT,
      )
      expect(lifted).toMatchObject({ imported: 1, duplicates: 0 })
      expect(await ragOf('HC-001')).toBe(before)
      expect(await observations.listLive(await idOf('HC-001'))).toHaveLength(1)
      expect(await observations.listHistory(await idOf('HC-001'))).toHaveLength(2)
    })

    it('adds no duplicate observations when the same file is imported again', async () => {
      await importRegister()
      const csv = [
        'service_ref,kind,date,end_date,outcome,reference,notes',
        'HC-001,safeguarding_decision,2026-02-01,,open,,',
        'HC-001,unexpected_death,2026-02-03,,,,',
        'HC-001,unexpected_death,2026-02-03,,,,',
        'CH-002,contract_concern,2026-01-10,,substantiated,CC-9,',
      ].join('\n')
      const first = await importer.importFile('intelligence', csv, CSV_IMPORT)
      expect(first).toMatchObject({ imported: 4, duplicates: 0, rejects: [] })
      const stored = count('observations')
      const runsBefore = count('refresh_runs')

      const again = await importer.importFile('intelligence', csv, CSV_IMPORT)

      expect(again).toMatchObject({ rowsRead: 4, imported: 0, duplicates: 4, rejects: [], runId: null })
      expect(count('observations')).toBe(stored)
      expect(count('refresh_runs')).toBe(runsBefore)
    })

    it('lands the good rows and rejects the bad ones, unknown services included', async () => {
      await importRegister()
      const csv = [
        'service_ref,cqc_location_id,kind,date,end_date,outcome,reference,notes',
        'HC-001,,default_notice,2026-02-01,,open,DN-1,',
        'NOPE-9,,embargo,2026-02-01,,,,',
        ',1-125856395,embargo,2026-02-02,,,EMB-7,',
        ',1-000,embargo,2026-02-02,,,,',
        'HC-001,1-125856395,embargo,2026-02-02,,,,',
        'CH-002,,embargo,31/02/2026,,,,',
        'SL-003,,party,2026-02-02,,,,',
      ].join('\n')

      const result = await importer.importFile('intelligence', csv, CSV_IMPORT)

      expect(result).toMatchObject({ rowsRead: 7, imported: 2, duplicates: 0, fileError: null })
      expect(result.rejects.map((r) => [r.rowNumber, r.column])).toEqual([
        [3, 'service_ref'],
        [5, 'cqc_location_id'],
        [6, 'cqc_location_id'],
        [7, 'date'],
        [8, 'kind'],
      ])
      expect(result.rejects[0]?.reason).toMatch(/NOPE-9/)
      expect((await observations.listLive(await idOf('HC-001'))).map((o) => o.indicator)).toEqual(['default_notice'])
      expect((await observations.listLive(await idOf('CH-002'))).map((o) => o.reference)).toEqual(['EMB-7'])
      expect(await observations.listLive(await idOf('SL-003'))).toEqual([])
      expect(await ragOf('CH-002')).toBe('red')
    })
  })

  it('imports assessments and safeguarding counts', async () => {
    await importRegister()
    const assessments = [
      'service_ref,assessment_date,outcome,assessor,domain_1,domain_2',
      'CH-002,2026-01-20,poor,A. Assessor,poor,good',
    ].join('\n')
    const counts = ['service_ref,period_start,period_end,decisions', 'HC-001,2025-04-01,2026-03-31,4'].join('\n')

    const assessed = await importer.importFile('assessments', assessments, CSV_IMPORT)
    const counted = await importer.importFile('safeguarding_counts', counts, CSV_IMPORT)

    expect(assessed).toMatchObject({ kind: 'assessments', imported: 1, rejects: [] })
    expect(counted).toMatchObject({ kind: 'safeguarding_counts', imported: 1, rejects: [] })
    expect(await observations.listLive(await idOf('CH-002'))).toEqual([
      expect.objectContaining({
        indicator: 'quality_assessment',
        value: 'poor',
        detail: { assessor: 'A. Assessor', domains: ['poor', 'good', null, null, null] },
      }),
    ])
    expect(await observations.listLive(await idOf('HC-001'))).toEqual([
      expect.objectContaining({ indicator: 'safeguarding', value: 'count', observedOn: '2026-03-31' }),
    ])
    expect(await ragOf('CH-002')).toBe('red')
  })

  it('recognises the kind of an inbox file from its header', async () => {
    await importRegister()
    const csv = ['service_ref,kind,date', 'HC-001,embargo,2026-03-01'].join('\n')
    const result = await importer.importFile('auto', Readable.from([Buffer.from(csv)]), {
      ...CSV_IMPORT,
      source: 'council_inbox',
      actor: 'inbox',
    })
    expect(result).toMatchObject({ kind: 'intelligence', imported: 1 })
    expect((await observations.listLive(await idOf('HC-001')))[0]?.source).toBe('council_inbox')
  })

  it('imports nothing from a file that is not the kind asked for', async () => {
    await importRegister()
    const observationsBefore = count('observations')
    const result = await importer.importFile('intelligence', SERVICES_CSV, CSV_IMPORT)

    expect(result).toMatchObject({ kind: 'intelligence', imported: 0, rejects: [], runId: null })
    expect(result.fileError).toMatch(/kind/)
    expect(count('observations')).toBe(observationsBefore)
  })

  it('reports an unknown kind as a file error', async () => {
    const result = await importer.importFile('castles' as 'services', SERVICES_CSV, CSV_IMPORT)
    expect(result).toMatchObject({ kind: null, imported: 0, runId: null })
    expect(result.fileError).toMatch(/castles/)
    expect(await services.count()).toBe(0)
  })

  it('audits each import with its outcome', async () => {
    const result = await importRegister()
    expect(audited).toEqual([
      {
        actor: 'officer@example.org',
        action: 'import',
        entityType: 'import',
        entityId: 'test.csv',
        after: {
          kind: 'services',
          source: 'council_csv',
          rowsRead: 3,
          imported: 3,
          duplicates: 0,
          rejected: 0,
          fileError: null,
          runId: result.runId,
        },
      },
    ])
  })
})
