// PLACEHOLDER — replaced by the work stream that owns `bgmig diff`.
import type { Command } from 'commander';
import { action } from '../context.js';
import { BgmigError } from '../../core/errors.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description('(under construction)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new BgmigError('bgmig diff is not built yet.');
      }),
    );
}
