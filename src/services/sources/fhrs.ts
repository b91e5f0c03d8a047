import { FhrsApiClient, readFhrsApi, readFhrsXml } from '../../ingest/fhrs/index.js'
import type { Services } from '../container.js'
import type { SourceStepContext, SourceStepResult } from '../refreshService.js'
import { applyConnectorResult } from './apply.js'
import { CouncilIdIndex } from './council.js'
import type { SourceStepOptions } from './options.js'

/** Food hygiene: each council FHRSID from the FSA API when FHRS_API_BASE is set, else from the XML folder. */
export async function runFhrsStep(
  services: Services,
  context: SourceStepContext,
  options: SourceStepOptions,
): Promise<SourceStepResult> {
  const { config } = services
  const index = new CouncilIdIndex(await services.serviceRepository.listAll())
  const request = {
    asOf: context.asOf,
    ids: index.ids('fhrs'),
    onProgress: (done: number, total: number) => context.progress(done, total),
  }
  const actor = `refresh:run-${context.runId}`
  if (config.FHRS_API_BASE) {
    const client = new FhrsApiClient({ ...options.http, baseUrl: config.FHRS_API_BASE })
    const result = await readFhrsApi(client, {
      ...request,
      concurrency: options.concurrency,
      maxConsecutiveFailures: options.maxConsecutiveFailures,
    })
    return applyConnectorResult(services, index, result, {
      kind: 'fhrs',
      actor,
      notFoundReason: 'the FSA has no establishment with this FHRSID',
    })
  }
  if (!config.FHRS_XML_DIR) throw new Error('Food hygiene: neither FHRS_API_BASE nor FHRS_XML_DIR is set')
  const result = await readFhrsXml({ ...request, path: config.FHRS_XML_DIR })
  return applyConnectorResult(services, index, result, {
    kind: 'fhrs',
    actor,
    notFoundReason: 'no establishment with this FHRSID in the FHRS open-data files',
  })
}
