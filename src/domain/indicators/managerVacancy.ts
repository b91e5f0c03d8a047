import type { Observation } from '../observation.js'
import {
  ageInDays,
  compactWord,
  indicatorResult,
  newestFirst,
  noDataResult,
  plural,
  quoted,
  stringField,
  type IndicatorAssessor,
} from './common.js'

const isVacancy = (observation: Observation) => compactWord(observation.value) === 'vacant'
const isInPost = (observation: Observation) => compactWord(observation.value) === 'inpost'
/** CQC names no registered manager and gives no absent date: not a known vacancy, but a person should look. */
const isNotNamed = (observation: Observation) => compactWord(observation.value) === 'notnamed'

/**
 * Each 'vacant' record is a vacancy from observedOn until its end date (null: not filled). A later 'in_post'
 * record closes every vacancy that started before it; on the same day the vacancy wins (the engine errs toward
 * flagging). The post is vacant as of a date while any vacancy is still open then; it has been vacant since the
 * earliest of those open vacancies started.
 */
export function openVacancies(observations: readonly Observation[], asOf: string): Observation[] {
  const inPost = observations.filter(isInPost)
  const lastInPost = inPost.reduce<string | null>(
    (latest, o) => (latest === null || o.observedOn > latest ? o.observedOn : latest),
    null,
  )
  return observations.filter(
    (observation) =>
      isVacancy(observation) &&
      (observation.endDate === null || observation.endDate > asOf) &&
      (isCqcAbsence(observation)
        ? !inPost.some((o) => o.id > observation.id)
        : lastInPost === null || observation.observedOn >= lastInPost),
  )
}

/**
 * CQC's manager-absent date is state read each night and often backdated before the night a manager was last seen
 * named: only a manager named on a later night (a row recorded after it) ends it, whatever the dates.
 */
function isCqcAbsence(observation: Observation): boolean {
  return observation.detail.since === 'registeredManagerAbsentDate'
}

export const assessManagerVacancy: IndicatorAssessor = (observations, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.manager_vacancy
  const key = 'manager_vacancy'
  const newest = newestFirst(observations)[0]
  if (!newest) return noDataResult(key, 'No registered manager information')

  const open = openVacancies(observations, asOf)
  const start = open.reduce<Observation | undefined>(
    (earliest, o) => (!earliest || o.observedOn < earliest.observedOn ? o : earliest),
    undefined,
  )
  if (start) {
    const vacantDays = ageInDays(start.observedOn, asOf)
    return indicatorResult(
      {
        key,
        level: vacantDays > rules.redWhenVacantMoreThanDays ? 'red' : 'amber',
        value: `Vacant for ${plural(vacantDays, 'day')}`,
        date: start.observedOn,
        source: start.source,
        reason: `Registered manager post vacant since ${start.observedOn} (${plural(vacantDays, 'day')})`,
      },
      asOf,
      rules.staleAfterDays,
    )
  }
  if (isNotNamed(newest)) {
    return {
      key,
      level: 'none',
      value: 'No manager named',
      date: newest.observedOn,
      source: newest.source,
      reason: `CQC names no registered manager and gives no manager-absent date (seen ${newest.observedOn}): flagged for review`,
      stale: false,
    }
  }
  if (!isVacancy(newest) && !isInPost(newest)) {
    return {
      key,
      level: 'none',
      value: newest.value,
      date: newest.observedOn,
      source: newest.source,
      reason: `Registered manager status ${quoted(newest.value)} is not recognised`,
      stale: false,
    }
  }
  // In post: the latest sign of it is an 'in_post' record or the filling of a vacancy.
  const signs = observations.flatMap((o) =>
    isInPost(o)
      ? [{ date: o.observedOn, filled: false, source: o.source }]
      : isVacancy(o) && o.endDate !== null
        ? [{ date: o.endDate, filled: true, source: o.source }]
        : [],
  )
  const latest = signs.reduce<(typeof signs)[number] | undefined>(
    (best, s) => (!best || s.date > best.date ? s : best),
    undefined,
  )
  const named = latest?.filled ? undefined : newestFirst(observations.filter(isInPost))[0]
  const managerName = named ? stringField(named.detail, 'managerName') : null
  const absentDate = named ? stringField(named.detail, 'absentDate') : null
  const who = managerName ? `Registered manager ${managerName}` : 'Registered manager'
  let reason = latest?.filled ? `${who} in post since ${latest.date}` : `${who} in post`
  // CQC's fields disagree: shown, not resolved (SPEC §5). A named manager counts as in post.
  if (absentDate) reason += `, but CQC also gives a manager-absent date of ${absentDate}: check which is right`
  return indicatorResult(
    {
      key,
      level: 'green',
      value: absentDate ? `In post (CQC also gives a manager-absent date of ${absentDate})` : 'In post',
      date: latest?.date ?? newest.observedOn,
      source: latest?.source ?? newest.source,
      reason,
    },
    asOf,
    rules.staleAfterDays,
  )
}
