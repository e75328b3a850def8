#!/usr/bin/env -S node --import tsx --no-warnings
// Development entry: oclif loads the TypeScript sources in src/ through tsx.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
