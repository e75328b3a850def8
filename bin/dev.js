#!/usr/bin/env node
// Development entry: the TypeScript sources in src/, loaded through tsx (registered here, so
// `node bin/dev.js` works as well as `node --import tsx bin/dev.js`), never a stale dist/. oclif's own dev-mode mapping from dist/ to src/ cannot work here (it reads tsconfig with
// a TypeScript API that TypeScript 7 no longer has, and registers tsx by a path tsx 4 no longer ships),
// and it fell back to dist/ without a word: so the root plugin is handed a package.json whose commands
// point at src/ directly.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {execute, settings} from '@oclif/core'
import {register} from 'tsx/esm/api'

register()

const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif = {...pjson.oclif, commands: './src/commands'}
settings.enableAutoTranspile = false
await execute({development: true, dir: import.meta.url, loadOptions: {root, pjson}})
