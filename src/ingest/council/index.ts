export { CsvFileError, MAX_RECORD_CHARS, readCsv, type CsvInput } from './csvReader.js'
export {
  parseCouncilCsv,
  parseCouncilCsvInBatches,
  type CouncilCsvBatchOptions,
  parseCouncilRecord,
  unknownKindMessage,
  type CouncilCsvResult,
  type CouncilCsvResultOf,
  type ParseCouncilCsvOptions,
  type ParsedRow,
  type RowReject,
  type UnrecognisedCsvResult,
} from './parseCouncilCsv.js'
export { missingColumns, recogniseKind, type KindRecognition } from './recogniseKind.js'
export { formatRejectCsv, formatRejectReport } from './rejectReport.js'
export {
  assessmentObservation,
  intelligenceObservation,
  intelligenceObservations,
  intelligenceNumbering,
  safeguardingCountObservation,
  type CouncilObservationFields,
} from './observations.js'
export {
  COUNCIL_IMPORT_KINDS,
  INTELLIGENCE_RULES,
  KIND_COLUMNS,
  SERVICE_NAMING_COLUMNS,
  isCouncilImportKind,
  type AssessmentRow,
  type CouncilImportKind,
  type CouncilRow,
  type CouncilRowOf,
  type IntelligenceRow,
  type SafeguardingCountRow,
  type ServiceRow,
} from './schemas.js'
