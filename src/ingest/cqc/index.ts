export { CqcApiClient, cqcSoftLimit, type CqcApiClientOptions } from './apiClient.js'
export { readCqcApi, type CqcApiRequest, type CqcApiResult } from './apiConnector.js'
export {
  CqcFileError,
  readCqcFile,
  type CqcFileKind,
  type CqcFileRequest,
  type CqcFileResult,
} from './fileConnector.js'
export { readCqcSource, type CqcSourceRequest, type CqcSourceResult } from './fileSource.js'
export type { CqcLocationFacts, CqcProviderFacts } from './facts.js'
export { normaliseCqcRating, parseCqcDate } from './ratings.js'
