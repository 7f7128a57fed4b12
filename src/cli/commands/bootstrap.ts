// PLACEHOLDER — replaced by the work stream that owns `bgmig bootstrap`.
import type { Command } from 'commander';
import { action } from '../context.js';
import { BgmigError } from '../../core/errors.js';

export function register(program: Command): void {
  program
    .command('bootstrap')
    .description('(under construction)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new BgmigError('bgmig bootstrap is not built yet.');
      }),
    );
}
