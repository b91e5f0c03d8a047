import type { Random } from './random.js'

/** The demo's invented borough. Every name here is made up; any likeness to a real company is chance. */
export const DEMO_BOROUGH_NAME = 'Northbridge'
export const DEMO_AREAS = ['North', 'South', 'East', 'West', 'Central'] as const
export type DemoArea = (typeof DEMO_AREAS)[number]

/**
 * Provider names that exercise escaping and encoding on every page and export: an apostrophe, an
 * ampersand, double quotes, an accent, and markup that must render as text.
 */
export const AWKWARD_PROVIDER_NAMES = {
  apostrophe: "O'Donnell Family Homecare Ltd",
  ampersand: 'Hart & Sons Care Homes Ltd',
  quotes: 'The "Good Life" Care Company Ltd',
  accent: 'Café Lumière Day Services CIC',
  script: 'Evil <script>alert(1)</script> Care Ltd',
} as const

const PROVIDER_STEMS = [
  'Acorn Lane',
  'Alderbrook',
  'Amberleigh',
  'Ashcombe',
  'Beaconsfield Vale',
  'Bellhaven',
  'Blackthorn',
  'Bramblewood',
  'Brightwater',
  'Calderstone',
  'Castlegate',
  'Cedarview',
  'Chalkhill',
  'Clearbrook',
  'Copperbeech',
  'Cornmill',
  'Cranleigh Park',
  'Daisybank',
  'Dovecote',
  'Eastwold',
  'Elmstead',
  'Fairmeadow',
  'Fernhill',
  'Foxglove',
  'Goldcrest',
  'Greenhollow',
  'Hazelmere',
  'Heathfield Vale',
  'Hollybrook',
  'Ivydene',
  'Juniper Grove',
  'Kestrel',
  'Larkspur',
  'Lindenhurst',
  'Longmeadow',
  'Marigold',
  'Mayfield Vale',
  'Millbrook',
  'Moorcroft',
  'Nightingale Lane',
  'Oakhaven',
  'Orchard Vale',
  'Pebblebrook',
  'Pinewood Rise',
  'Quayside',
  'Ravensworth',
  'Redwing',
  'Rowanberry',
  'Saffron',
  'Sandpiper',
  'Silverdale',
  'Skylark',
  'Southwold',
  'Stonebridge',
  'Summerfield',
  'Swallowdale',
  'Tamarind',
  'Thornbury Vale',
  'Tidewell',
  'Valleyview',
  'Wellspring',
  'Westbrook',
  'Whitecliff',
  'Wildflower',
  'Willowmead',
  'Windrush',
  'Wrenfield',
  'Yarrow',
  'Applegarth',
  'Bluebell Hill',
  'Buttercross',
  'Coldharbour',
  'Eversley',
  'Greyfriars',
  'Harebell',
  'Kingsfold',
  'Lavenham',
  'Meadowsweet',
  'Northcote',
  'Oxley',
  'Penhallow',
  'Riverbend',
  'Sunnyside Vale',
  'Tanglewood',
] as const

/** Company-name endings by what the provider mainly runs. */
export const PROVIDER_SUFFIXES = {
  home_care: [
    'Homecare Ltd',
    'Home Care Services Ltd',
    'Care at Home Ltd',
    'Domiciliary Care Ltd',
    'Community Care Ltd',
    'Care Services Limited',
  ],
  care_home: ['Care Homes Ltd', 'Healthcare Ltd', 'Care Group Limited', 'Residential Care Ltd', 'Nursing Homes Ltd'],
  supported_living: ['Support Services Ltd', 'Supported Living CIC', 'Independent Living Ltd', 'Support Trust'],
  extra_care: ['Housing and Care Ltd', 'Retirement Living Ltd', 'Care Partnership LLP'],
  day_service: ['Day Opportunities CIC', 'Community Services Ltd', 'Day Services Ltd'],
} as const
export type ProviderKind = keyof typeof PROVIDER_SUFFIXES

const PLACE_STEMS = [
  'Ashdown',
  'Beechwood',
  'Birchfield',
  'Bramley',
  'Briarwood',
  'Brookside',
  'Cherry Tree',
  'Chiltern',
  'Clifton',
  'Coppice',
  'Elmhurst',
  'Fairview',
  'Glenholme',
  'Greystones',
  'Hawthorne',
  'Heather Bank',
  'Highcroft',
  'Holmwood',
  'Kingsmead',
  'Lakeview',
  'Laurel Bank',
  'Linden',
  'Maple Leaf',
  'Meadowcroft',
  'Netherby',
  'Oaklands',
  'Old Rectory',
  'Parkside',
  'Primrose Hill',
  'Redcliffe',
  'Rosemount',
  'Sandhurst',
  'Seaton',
  'Sherwood',
  'Springbank',
  "St Luke's",
  "St Mary's",
  'Sycamore',
  'The Beeches',
  'The Firs',
  'The Hollies',
  'The Laurels',
  'Thornleigh',
  'Victoria',
  'Westfield',
  'Whitegates',
  'Willowbank',
  'Woodlands',
] as const

const CARE_HOME_ENDINGS = ['House', 'Lodge', 'Court', 'Manor', 'Grange', 'Hall', 'Care Home'] as const
const STREETS = [
  'Albert Road',
  'Chapel Street',
  'Church Lane',
  'Elm Grove',
  'Hill Street',
  'Mill Lane',
  'Park Avenue',
  'Queens Road',
  'Station Road',
  'Victoria Street',
  'Windmill Close',
] as const

export const FIRST_NAMES = [
  'Amara',
  'Ben',
  'Chloe',
  'Daniel',
  'Eilidh',
  'Farah',
  'Gareth',
  'Hannah',
  'Imran',
  'Joanne',
  'Kwame',
  'Lucy',
  'Mohammed',
  'Niamh',
  'Olu',
  'Priya',
  'Rhys',
  'Sarah',
  'Tomasz',
  'Yasmin',
] as const
export const SURNAMES = [
  'Adeyemi',
  'Barker',
  'Chowdhury',
  'Davies',
  'Evans',
  'Fletcher',
  'Gallagher',
  'Hughes',
  'Iqbal',
  'Jones',
  'Kowalski',
  'Lewis',
  'Mensah',
  "O'Brien",
  'Patel',
  'Robinson',
  'Singh',
  'Thompson',
  'Walsh',
  'Wright',
] as const

/** Hands out names without repeats: tries random candidates, then numbers one as a last resort. */
export class UniqueNames {
  private readonly used = new Set<string>()

  reserve(name: string): string {
    this.used.add(name)
    return name
  }

  take(rng: Random, candidate: () => string): string {
    for (let attempt = 0; attempt < 50; attempt++) {
      const name = candidate()
      if (!this.used.has(name)) return this.reserve(name)
    }
    const base = candidate()
    let n = 2
    while (this.used.has(`${base} ${n}`)) n++
    return this.reserve(`${base} ${n}`)
  }
}

/** Company names from distinct stems, so no two providers share a first word. */
export function providerNames(rng: Random, kinds: readonly ProviderKind[]): string[] {
  if (kinds.length > PROVIDER_STEMS.length) throw new Error('Not enough provider name stems')
  const stems = rng.shuffle(PROVIDER_STEMS)
  return kinds.map((kind, i) => `${stems[i] as string} ${rng.pick(PROVIDER_SUFFIXES[kind])}`)
}

/** "Acorn Lane Homecare Ltd" -> "Acorn Lane Homecare": how a branch is usually named. */
export function tradingName(provider: string): string {
  return provider.replace(/\s+(Ltd|Limited|CIC|LLP|plc|Trust)$/i, '').trim()
}

export function careHomeName(rng: Random, nursing: boolean): string {
  const ending = nursing && rng.chance(0.4) ? 'Nursing Home' : rng.pick(CARE_HOME_ENDINGS)
  return `${rng.pick(PLACE_STEMS)} ${ending}`
}

export function homeCareBranchName(provider: string, area: DemoArea): string {
  return `${tradingName(provider)} - ${DEMO_BOROUGH_NAME} ${area}`
}

export function supportedLivingName(rng: Random): string {
  return rng.chance(0.5) ? `${rng.int(2, 98)} ${rng.pick(STREETS)}` : `${rng.pick(PLACE_STEMS)} Supported Living Scheme`
}

export function extraCareName(rng: Random): string {
  return `${rng.pick(PLACE_STEMS)} ${rng.pick(['Court', 'Gardens', 'Place'])} Extra Care`
}

export function dayServiceName(rng: Random): string {
  return `${rng.pick(PLACE_STEMS)} ${rng.pick(['Day Centre', 'Day Opportunities', 'Resource Centre'])}`
}

export function personName(rng: Random): string {
  return `${rng.pick(FIRST_NAMES)} ${rng.pick(SURNAMES)}`
}

/** "A. Patel" style, as assessment reports sign off. */
export function assessorName(rng: Random): string {
  return `${rng.pick(FIRST_NAMES).charAt(0)}. ${rng.pick(SURNAMES)}`
}
