// Builds the app: TypeScript to dist/, and the browser assets to public/build/ (served at /assets).
//
//   node scripts/build.mjs                 compile TypeScript, then build the assets
//   node scripts/build.mjs --assets-only   build the assets only (tests use this through buildAssets())
//
// Everything is self-hosted: no CDN, so the strict CSP can say `self` only.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as sass from 'sass'

const require = createRequire(import.meta.url)
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const buildDir = path.join(projectRoot, 'public', 'build')

function isPackageRoot(dir, name) {
  const file = path.join(dir, 'package.json')
  return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).name === name
}

// Some packages (chart.js) do not export their package.json, so walk up from the entry point instead.
function packageDir(name) {
  let dir = path.dirname(require.resolve(name, { paths: [projectRoot] }))
  while (!isPackageRoot(dir, name)) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`Cannot find the folder of package ${name}`)
    dir = parent
  }
  return dir
}

export function compileStylesheet(outDir = buildDir) {
  const result = sass.compile(path.join(projectRoot, 'public', 'stylesheets', 'application.scss'), {
    loadPaths: [path.join(projectRoot, 'node_modules')],
    style: 'compressed',
    quietDeps: true,
  })
  writeFileSync(path.join(outDir, 'application.css'), result.css)
}

function copyGovukAssets(outDir) {
  const govuk = path.join(packageDir('govuk-frontend'), 'dist', 'govuk')
  // Fonts are left out: the service uses Arial (GDS Transport is for GOV.UK only).
  cpSync(path.join(govuk, 'assets', 'images'), path.join(outDir, 'images'), { recursive: true })
  cpSync(path.join(govuk, 'assets', 'manifest.json'), path.join(outDir, 'manifest.json'))
  for (const file of ['govuk-frontend.min.js', 'govuk-frontend.min.js.map']) {
    cpSync(path.join(govuk, file), path.join(outDir, file))
  }
}

function copyChartJs(outDir) {
  const dist = path.join(packageDir('chart.js'), 'dist')
  const file = ['chart.umd.min.js', 'chart.umd.js'].find((name) => existsSync(path.join(dist, name)))
  if (!file) throw new Error(`chart.js UMD bundle not found in ${dist}`)
  cpSync(path.join(dist, file), path.join(outDir, 'chart.umd.js'))
}

function copyOwnScripts(outDir) {
  const source = path.join(projectRoot, 'public', 'js')
  const target = path.join(outDir, 'js')
  mkdirSync(target, { recursive: true })
  for (const name of readdirSync(source).filter((file) => file.endsWith('.js'))) {
    cpSync(path.join(source, name), path.join(target, name))
  }
}

/** Builds public/build/: application.css, govuk-frontend JS and images, chart.js, and our own scripts under js/. */
export function buildAssets(outDir = buildDir) {
  mkdirSync(outDir, { recursive: true })
  compileStylesheet(outDir)
  copyGovukAssets(outDir)
  copyChartJs(outDir)
  copyOwnScripts(outDir)
  return outDir
}

export function compileTypeScript() {
  const tsc = path.join(packageDir('typescript'), 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '-p', path.join(projectRoot, 'tsconfig.build.json')], {
    cwd: projectRoot,
    stdio: 'inherit',
  })
}

const runDirectly = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href
if (runDirectly) {
  try {
    if (!process.argv.includes('--assets-only')) compileTypeScript()
    const out = buildAssets()
    console.log(`Assets built in ${path.relative(projectRoot, out)}`)
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  }
}
