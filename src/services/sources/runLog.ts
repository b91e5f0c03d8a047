import type { RefreshRun, RunKind, RunRepository, SourceReject, SourceRun } from '../../data/runs.js'
import type { SourceStateEntry, SourceStateRepository } from '../../data/sourceState.js'

export interface RunWithSources extends RefreshRun {
  sources: SourceRun[]
}

export interface RunListPage {
  runs: RunWithSources[]
  page: number
  hasNext: boolean
}

export interface RejectRow extends SourceReject {
  source: string
}

export interface RunDetail {
  run: RefreshRun
  sources: SourceRun[]
  rejects: { rows: RejectRow[]; total: number; page: number; pageCount: number }
  /** What the sources remember between runs (e.g. the CQC changes feed window). */
  sourceState: SourceStateEntry[]
}

/** The admin run log (SPEC §7): runs with per-source counts, and each run's errors and rejected rows. */
export class RunLogService {
  constructor(private readonly deps: { runs: RunRepository; sourceState: SourceStateRepository }) {}

  async listRuns(options: { kind?: RunKind; page: number; pageSize: number }): Promise<RunListPage> {
    const found = await this.deps.runs.listRuns({
      kind: options.kind,
      limit: options.pageSize + 1,
      offset: (options.page - 1) * options.pageSize,
    })
    const runs = await Promise.all(
      found
        .slice(0, options.pageSize)
        .map(async (run) => ({ ...run, sources: await this.deps.runs.listSourceRuns(run.id) })),
    )
    return { runs, page: options.page, hasNext: found.length > options.pageSize }
  }

  async runDetail(
    runId: number,
    options: { source?: string; page: number; pageSize: number },
  ): Promise<RunDetail | null> {
    const run = await this.deps.runs.getRun(runId)
    if (!run) return null
    const sources = await this.deps.runs.listSourceRuns(runId)
    const all: RejectRow[] = sources
      .filter((s) => options.source === undefined || s.source === options.source)
      .flatMap((s) => s.rejects.map((reject) => ({ source: s.source, ...reject })))
    const pageCount = Math.max(1, Math.ceil(all.length / options.pageSize))
    const page = Math.min(options.page, pageCount)
    return {
      run,
      sources,
      rejects: {
        rows: all.slice((page - 1) * options.pageSize, page * options.pageSize),
        total: all.length,
        page,
        pageCount,
      },
      sourceState: await this.deps.sourceState.list(),
    }
  }
}
