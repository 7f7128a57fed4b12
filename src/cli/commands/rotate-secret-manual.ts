// PLACEHOLDER — replaced by the work stream that owns `bgmig rotate-secret-manual`.
import type { Command } from 'commander';
import { action } from '../context.js';
import { BgmigError } from '../../core/errors.js';

export function register(program: Command): void {
  program
    .command('rotate-secret-manual')
    .description('(under construction)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new BgmigError('bgmig rotate-secret-manual is not built yet.');
      }),
    );
}
