import { z } from 'zod'

/**
 * The CQC syndication API payloads (FORMATS §1), validated liberally: unknown fields are ignored, almost
 * everything may be missing or null, and rating words are kept as strings so a word never seen before reaches
 * the risk engine (which reports it as unrecognised) instead of failing the record.
 */

const text = z.string().nullish()
const flag = z.union([z.string(), z.boolean()]).nullish()

const keyQuestionRatingSchema = z.object({
  name: z.string(),
  rating: text,
  reportDate: text,
  reportLinkId: text,
})

const overallRatingSchema = z.object({
  rating: text,
  reportDate: text,
  reportLinkId: text,
  /** Present when the rating is inherited from a predecessor registration. */
  organisationId: text,
  keyQuestionRatings: z.array(keyQuestionRatingSchema).nullish(),
})

const contactSchema = z.object({
  personTitle: text,
  personGivenName: text,
  personFamilyName: text,
  personRoles: z.array(z.string()).nullish(),
})

export const cqcLocationSchema = z.object({
  locationId: z.string().trim().min(1),
  providerId: text,
  organisationType: text,
  type: text,
  name: text,
  registrationStatus: text,
  registrationDate: text,
  deregistrationDate: text,
  dormancy: text,
  dormancyStartDate: text,
  dormancyEndDate: text,
  numberOfBeds: z.union([z.number(), z.string()]).nullish(),
  careHome: flag,
  postalCode: text,
  localAuthority: text,
  inspectionDirectorate: text,
  registeredManagerAbsentDate: text,
  regulatedActivities: z
    .array(z.object({ name: text, code: text, contacts: z.array(contactSchema).nullish() }))
    .nullish(),
  gacServiceTypes: z.array(z.object({ name: text, description: text })).nullish(),
  inspectionCategories: z.array(z.object({ code: text, name: text, primary: flag })).nullish(),
  currentRatings: z.object({ overall: overallRatingSchema.nullish(), reportDate: text }).nullish(),
  historicRatings: z
    .array(z.object({ reportDate: text, reportLinkId: text, overall: overallRatingSchema.nullish() }))
    .nullish(),
  relationships: z.array(z.object({ relatedLocationId: text, type: text, reason: text })).nullish(),
})
export type CqcLocation = z.infer<typeof cqcLocationSchema>

export const cqcProviderSchema = z.object({
  providerId: z.string().trim().min(1),
  name: text,
  ownershipType: text,
  registrationStatus: text,
  companiesHouseNumber: text,
  charityNumber: text,
  locationIds: z.array(z.string()).nullish(),
})
export type CqcProvider = z.infer<typeof cqcProviderSchema>

export const cqcLocationsPageSchema = z.object({
  total: z.number().nullish(),
  page: z.number().nullish(),
  perPage: z.number().nullish(),
  totalPages: z.number().nullish(),
  nextPageUri: text,
  locations: z.array(z.object({ locationId: z.string(), locationName: text, postalCode: text })),
})
export type CqcLocationSummary = z.infer<typeof cqcLocationsPageSchema>['locations'][number]

export const cqcChangesPageSchema = z.object({
  total: z.number().nullish(),
  page: z.number().nullish(),
  perPage: z.number().nullish(),
  totalPages: z.number().nullish(),
  changes: z.array(z.string()),
})
