import { CompaniesHouseClient, readCompaniesHouse } from '../../ingest/companiesHouse/index.js'
import type { Services } from '../container.js'
import type { SourceStepContext, SourceStepResult } from '../refreshService.js'
import { applyConnectorResult } from './apply.js'
import { CouncilIdIndex } from './council.js'
import type { SourceStepOptions } from './options.js'

/**
 * Companies House: each provider's company status. Run after CQC, so a company number CQC supplied tonight is
 * followed tonight. A status has no date of its own, so it is stored only when it differs from the last one seen.
 */
export async function runCompaniesHouseStep(
  services: Services,
  context: SourceStepContext,
  options: SourceStepOptions,
): Promise<SourceStepResult> {
  const { config } = services
  if (!config.COMPANIES_HOUSE_API_BASE) throw new Error('Companies House: COMPANIES_HOUSE_API_BASE is not set')
  const index = new CouncilIdIndex(await services.serviceRepository.listAll())
  const client = new CompaniesHouseClient({
    ...options.http,
    baseUrl: config.COMPANIES_HOUSE_API_BASE,
    apiKey: config.COMPANIES_HOUSE_API_KEY,
  })
  const result = await readCompaniesHouse(client, {
    asOf: context.asOf,
    ids: index.ids('company'),
    onProgress: (done, total) => context.progress(done, total),
    concurrency: options.concurrency,
    maxConsecutiveFailures: options.maxConsecutiveFailures,
  })
  return applyConnectorResult(services, index, result, {
    kind: 'company',
    actor: `refresh:run-${context.runId}`,
    notFoundReason: 'Companies House has no company with this number',
    dedupe: 'latest_value',
  })
}
