import type { Services } from '../container.js'
import type { SourceStep, SourceStepContext, SourceStepResult } from '../refreshService.js'
import { runCompaniesHouseStep } from './companiesHouse.js'
import { runCqcStep } from './cqc.js'
import { runFhrsStep } from './fhrs.js'
import { inboxStep } from './inbox.js'
import type { SourceStepOptions } from './options.js'

export type { SourceStepOptions } from './options.js'
export { CQC_STATE } from './cqc.js'

/**
 * The overnight run's sources, in order, built from configuration. A source with neither a base URL nor a file is
 * "not configured" (as in the demo), never "failed". The council's inbox (INBOX_DIR) runs first, so services its
 * register files add are looked up at CQC the same night; CQC runs before Companies House: it may supply company numbers
 * that Companies House then follows. Every source runs before risk is recomputed.
 */
export function buildSourceSteps(services: Services, options: SourceStepOptions = {}): SourceStep[] {
  const { config } = services
  const step = (
    source: string,
    label: string,
    configured: boolean,
    run: (services: Services, context: SourceStepContext, options: SourceStepOptions) => Promise<SourceStepResult>,
  ): SourceStep => ({ source, label, configured, run: (context) => run(services, context, options) })
  return [
    inboxStep(services.inbox),
    step('cqc', 'CQC', Boolean(config.CQC_API_BASE || config.CQC_FILE), runCqcStep),
    step('fhrs', 'Food hygiene (FSA)', Boolean(config.FHRS_API_BASE || config.FHRS_XML_DIR), runFhrsStep),
    step(
      'companies_house',
      'Companies House',
      Boolean(config.COMPANIES_HOUSE_API_BASE || config.COMPANIES_HOUSE_STREAM_URL),
      runCompaniesHouseStep,
    ),
  ]
}
