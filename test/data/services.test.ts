import { beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { ServiceRepository } from '../../src/data/services.js'
import { serviceInput } from '../helpers/factories.js'

describe('ServiceRepository', () => {
  let db: Db
  let services: ServiceRepository

  beforeEach(() => {
    db = openTestDatabase()
    services = new ServiceRepository(db)
  })

  const providerCount = () => (db.prepare('SELECT COUNT(*) AS n FROM providers').get() as { n: number }).n

  it('creates services and their providers, reporting each as created', async () => {
    const outcomes = await services.upsertMany([
      serviceInput({
        ref: 'HC-1',
        name: 'Acorn Home Care',
        providerName: 'Acorn Ltd',
        cqcProviderId: '1-101',
        companiesHouseNumber: '06070408',
        cqcLocationId: '1-1000210669',
        fhrsId: '1583332',
        serviceType: 'home_care',
        area: 'North',
        capacity: 120,
        contractStatus: 'spot',
        registeredOn: '2019-04-01',
      }),
      serviceInput({ ref: 'CH-2', providerName: 'Birch Care', serviceType: 'care_home_nursing', area: 'South' }),
    ])

    expect(outcomes).toEqual([
      { ref: 'HC-1', id: expect.any(Number), created: true },
      { ref: 'CH-2', id: expect.any(Number), created: true },
    ])
    expect(await services.count()).toBe(2)
    expect(providerCount()).toBe(2)
    const acorn = await services.findByRef('HC-1')
    expect(acorn).toEqual({
      id: outcomes[0]?.id,
      ref: 'HC-1',
      name: 'Acorn Home Care',
      providerId: expect.any(Number),
      providerName: 'Acorn Ltd',
      cqcProviderId: '1-101',
      companiesHouseNumber: '06070408',
      cqcLocationId: '1-1000210669',
      fhrsId: '1583332',
      serviceType: 'home_care',
      area: 'North',
      capacity: 120,
      contractStatus: 'spot',
      registeredOn: '2019-04-01',
      deregisteredOn: null,
    })
    expect(await services.findById(acorn?.id as number)).toEqual(acorn)
    expect(await services.findByCqcLocationId('1-1000210669')).toEqual(acorn)
    const birch = await services.findByRef('CH-2')
    expect(birch).toMatchObject({ cqcProviderId: null, cqcLocationId: null, capacity: null, registeredOn: null })
  })

  it('returns null for services it does not hold', async () => {
    expect(await services.findByRef('NOPE')).toBeNull()
    expect(await services.findById(404)).toBeNull()
    expect(await services.findByCqcLocationId('1-999')).toBeNull()
  })

  it('updates a service by ref on re-import, keeping its id and adding no rows', async () => {
    const [first] = await services.upsertMany([
      serviceInput({ ref: 'HC-1', name: 'Old name', area: 'North', capacity: 10, registeredOn: '2019-04-01' }),
    ])
    const [second] = await services.upsertMany([
      serviceInput({
        ref: 'HC-1',
        name: 'New name',
        area: 'East',
        capacity: 25,
        contractStatus: 'off_contract',
        serviceType: 'supported_living',
      }),
    ])

    expect(second).toEqual({ ref: 'HC-1', id: first?.id, created: false })
    expect(await services.count()).toBe(1)
    expect(await services.findByRef('HC-1')).toMatchObject({
      name: 'New name',
      area: 'East',
      capacity: 25,
      contractStatus: 'off_contract',
      serviceType: 'supported_living',
      // A re-import without a registration date keeps the one already known.
      registeredOn: '2019-04-01',
    })
  })

  it('matches the provider by CQC provider id, whatever its name now is, and takes the new name', async () => {
    await services.upsertMany([serviceInput({ ref: 'A', providerName: 'Acorn Ltd', cqcProviderId: '1-101' })])
    await services.upsertMany([serviceInput({ ref: 'B', providerName: 'Acorn Care Group', cqcProviderId: '1-101' })])

    expect(providerCount()).toBe(1)
    const a = await services.findByRef('A')
    const b = await services.findByRef('B')
    expect(b?.providerId).toBe(a?.providerId)
    expect(a?.providerName).toBe('Acorn Care Group')
  })

  it('keeps providers with the same name but different CQC provider ids apart', async () => {
    await services.upsertMany([
      serviceInput({ ref: 'A', providerName: 'Care Ltd', cqcProviderId: '1-101' }),
      serviceInput({ ref: 'B', providerName: 'Care Ltd', cqcProviderId: '1-202' }),
    ])
    expect(providerCount()).toBe(2)
  })

  it('matches a provider without a CQC id by name, case-insensitively', async () => {
    await services.upsertMany([
      serviceInput({ ref: 'A', providerName: 'Hillside Day Services' }),
      serviceInput({ ref: 'B', providerName: 'HILLSIDE day services' }),
      serviceInput({ ref: 'C', providerName: 'Another Charity' }),
    ])

    expect(providerCount()).toBe(2)
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((ref) => services.findByRef(ref)))
    expect(b?.providerId).toBe(a?.providerId)
    expect(c?.providerId).not.toBe(a?.providerId)
  })

  it('keeps a service with its provider when re-imported without the CQC provider id', async () => {
    await services.upsertMany([serviceInput({ ref: 'A', providerName: 'Acorn Ltd', cqcProviderId: '1-101' })])
    const before = await services.findByRef('A')

    await services.upsertMany([serviceInput({ ref: 'A', providerName: 'Acorn Ltd', cqcProviderId: null })])

    expect(providerCount()).toBe(1)
    expect(await services.findByRef('A')).toMatchObject({ providerId: before?.providerId, cqcProviderId: '1-101' })
  })

  it('keeps a known company number when a later import leaves it blank', async () => {
    await services.upsertMany([serviceInput({ ref: 'A', providerName: 'Acorn', companiesHouseNumber: '06070408' })])
    await services.upsertMany([serviceInput({ ref: 'A', providerName: 'Acorn', companiesHouseNumber: null })])
    expect((await services.findByRef('A'))?.companiesHouseNumber).toBe('06070408')
  })

  it('lands every input or none', async () => {
    await services.upsertMany([serviceInput({ ref: 'EXISTING', cqcLocationId: '1-555' })])

    await expect(
      services.upsertMany([
        serviceInput({ ref: 'NEW-1', providerName: 'Brand New Provider' }),
        // cqc_location_id is unique: this one clashes with EXISTING.
        serviceInput({ ref: 'NEW-2', cqcLocationId: '1-555' }),
      ]),
    ).rejects.toThrow(/UNIQUE/)

    expect(await services.count()).toBe(1)
    expect(await services.findByRef('NEW-1')).toBeNull()
    expect(providerCount()).toBe(1)
  })

  it('lists services by ref and the distinct areas', async () => {
    await services.upsertMany([
      serviceInput({ ref: 'C', area: 'South' }),
      serviceInput({ ref: 'A', area: 'North' }),
      serviceInput({ ref: 'B', area: 'South' }),
    ])
    expect((await services.listAll()).map((s) => s.ref)).toEqual(['A', 'B', 'C'])
    expect(await services.listAreas()).toEqual(['North', 'South'])
  })

  it('records registration facts learnt from CQC', async () => {
    const [outcome] = await services.upsertMany([serviceInput({ ref: 'A', registeredOn: '2015-01-01' })])
    const id = outcome?.id as number

    await services.setRegistration(id, null, '2026-02-28')
    expect(await services.findById(id)).toMatchObject({ registeredOn: '2015-01-01', deregisteredOn: '2026-02-28' })

    await services.setRegistration(id, '2016-06-06', null)
    expect(await services.findById(id)).toMatchObject({ registeredOn: '2016-06-06', deregisteredOn: null })
  })

  it("sets the provider's company number learnt from CQC", async () => {
    const [outcome] = await services.upsertMany([serviceInput({ ref: 'A' })])
    const service = await services.findById(outcome?.id as number)

    await services.setProviderCompanyNumber(service?.providerId as number, 'SC123456')
    expect((await services.findByRef('A'))?.companiesHouseNumber).toBe('SC123456')
  })
})
