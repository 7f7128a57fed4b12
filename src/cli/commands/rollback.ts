// PLACEHOLDER — replaced by the work stream that owns `bgmig rollback`.
import type { Command } from 'commander';
import { action } from '../context.js';
import { BgmigError } from '../../core/errors.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .description('(under construction)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new BgmigError('bgmig rollback is not built yet.');
      }),
    );
}
