import type { Services } from '../container.js'
import type { SourceStep } from '../refreshService.js'

/**
 * The overnight run's sources, in order, built from configuration. A source with neither a base URL nor a file is
 * "not configured" (as in the demo), never "failed".
 */
export function buildSourceSteps(services: Services): SourceStep[] {
  const { config } = services
  return [
    notYetConnected('cqc', 'CQC', Boolean(config.CQC_API_BASE || config.CQC_FILE)),
    notYetConnected('fhrs', 'Food hygiene (FSA)', Boolean(config.FHRS_API_BASE || config.FHRS_XML_DIR)),
    notYetConnected('companies_house', 'Companies House', Boolean(config.COMPANIES_HOUSE_API_BASE)),
  ]
}

function notYetConnected(source: string, label: string, configured: boolean): SourceStep {
  return {
    source,
    label,
    configured,
    run: async () => {
      throw new Error(`${label}: connector not wired into the refresh yet`)
    },
  }
}
