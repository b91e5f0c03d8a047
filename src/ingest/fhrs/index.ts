export { FhrsApiClient, readFhrsApi, type FhrsApiClientOptions } from './apiConnector.js'
export { readFhrsXml, type FhrsXmlRequest } from './xmlConnector.js'
export { normaliseFhrsRating, FOOD_HYGIENE_VALUES, type FhrsFacts } from './establishment.js'
