export {
  CompaniesHouseClient,
  normaliseCompanyNumber,
  readCompaniesHouse,
  type CompaniesHouseClientOptions,
  type CompanyFacts,
} from './connector.js'
