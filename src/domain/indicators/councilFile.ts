import type { Observation } from '../observation.js'
import type { IndicatorResult } from '../riskResult.js'

/** How the inbox enters a council file's rows (`enteredBy`): `inbox: <file name>` (SPEC §6). */
const INBOX_ACTOR_PREFIX = 'inbox: '

export function inboxActor(fileName: string): string {
  return `${INBOX_ACTOR_PREFIX}${fileName}`
}

/** The council file an observation came in, or null when it did not come from the inbox. */
export function councilFileOf(observation: Pick<Observation, 'source' | 'enteredBy'>): string | null {
  if (observation.source !== 'council_inbox') return null
  const enteredBy = observation.enteredBy ?? ''
  return enteredBy.startsWith(INBOX_ACTOR_PREFIX) ? enteredBy.slice(INBOX_ACTOR_PREFIX.length) : null
}

/**
 * An indicator decided by a fact from a council inbox file names that file and the day it was received, so a colour
 * changed overnight says where it came from: "Embargo on new placements since 2026-11-20; from council file
 * intelligence.csv, received 2026-12-04". The deciding fact is the inbox observation dated on the indicator's date
 * (the latest received when several are); the first file that brought a fact keeps the credit when the same fact is
 * sent again, as re-sending it changes nothing.
 */
export function withCouncilFile(result: IndicatorResult, observations: readonly Observation[]): IndicatorResult {
  if (result.source !== 'council_inbox' || result.level === 'none' || result.date === null) return result
  let deciding: { file: string; observation: Observation } | null = null
  for (const observation of observations) {
    const file = councilFileOf(observation)
    if (file === null || observation.observedOn.slice(0, 10) !== result.date) continue
    const later =
      deciding === null ||
      observation.recordedAt > deciding.observation.recordedAt ||
      (observation.recordedAt === deciding.observation.recordedAt && observation.id > deciding.observation.id)
    if (later) deciding = { file, observation }
  }
  if (deciding === null) return result
  const received = deciding.observation.recordedAt.slice(0, 10)
  return { ...result, reason: `${result.reason}; from council file ${deciding.file}, received ${received}` }
}
