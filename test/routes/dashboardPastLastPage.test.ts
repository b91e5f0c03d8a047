import { describe, expect, it } from 'vitest'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

describe('a page number past the last page', () => {
  it('says so and links to the last page, instead of "Showing 4999901 to 3"', async () => {
    const services = createTestServices()
    await seedSmallBorough(services)
    const { agent } = await signIn(appWithAllRoutes(services), services, 'assessor')
    const page = await agent.get('/?page=99999')
    expect(page.status).toBe(200)
    expect(page.text).not.toContain('Showing 4999901')
    expect(page.text).toContain('There are 3 services on 1 page: this page is past the last one.')
    expect(page.text).toMatch(/<a class="govuk-link" href="\/">Go to the last page<\/a>/)
    expect(page.text).toContain('rel="prev"')
    expect(page.text).not.toContain('page&#x3D;99998')
  })
})
