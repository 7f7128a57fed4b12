// PLACEHOLDER — replaced by the work stream that owns `bgmig synth`.
import type { Command } from 'commander';
import { action } from '../context.js';
import { BgmigError } from '../../core/errors.js';

export function register(program: Command): void {
  program
    .command('synth')
    .description('(under construction)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new BgmigError('bgmig synth is not built yet.');
      }),
    );
}
