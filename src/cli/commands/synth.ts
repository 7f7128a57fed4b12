/**
 * `bgmig synth`: builds the bgmig-{suffix} CloudFormation template through @aws-cdk/toolkit-lib (the same
 * fromAssemblyBuilder path deploy uses), checks it with cdk-nag (AwsSolutions, NIST 800-53 rev 5) and, with
 * --validate, CDK's built-in template validator, and prints a summary. Needs no AWS credentials.
 */
import { readFileSync } from 'node:fs';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import type { StackConfig } from '../../core/config.js';
import { names } from '../../core/naming.js';
import {
  type StackOptionValues,
  addStackOptions,
  assemblySource,
  checkSynthResult,
  createToolkit,
  ioHostTo,
  stackConfigFromOptions,
  templatePath,
  unwrapSynthError,
} from '../cdk.js';
import { type CommandContext, action } from '../context.js';
import { checkOutputDir, noEffect } from '../flag-rules.js';
import type { Io } from '../io.js';
import { resolveStackOptions } from '../settings.js';
import { emit, type RunF } from '../verb.js';

export interface SynthOptions {
  /** The validated suffix (the stack is bgmig-<suffix>). */
  suffix: string;
  /** The stack built from the flags and settings file (validated: exit 2 before this exists). */
  config: StackConfig;
  /** The cloud assembly directory, absolute (checked: not a file, nor inside one). */
  outdir: string;
  /** --validate: also CDK's built-in template validation. */
  validate: boolean;
}

export interface SynthResult {
  stack: string;
  outdir: string;
  template: string;
  environment: string;
  certificatePlaceholder: boolean;
  resources: { total: number; byType: Record<string, number> };
  nag: { packs: string[]; unacknowledged: number; acknowledged: number };
  templateValidation: 'on' | 'off';
  durationMs: number;
}

interface Template {
  Resources?: Record<string, { Type: string }>;
}

/** Resource counts by type, most frequent first (ties by name). */
export function countResources(template: Template): SynthResult['resources'] {
  const byType: Record<string, number> = {};
  for (const r of Object.values(template.Resources ?? {})) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
  const sorted = Object.fromEntries(Object.entries(byType).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
  return { total: Object.values(byType).reduce((s, n) => s + n, 0), byType: sorted };
}

/** The summary: stack, template, checks and resources by type (`style` unused: the text has no colour). */
export function renderSynth(r: SynthResult, _style?: ChalkInstance): string {
  const width = Math.max(...Object.keys(r.resources.byType).map((t) => t.length));
  const lines = [
    `Synthesized ${r.stack} (${r.environment}) in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  template: ${r.template}`,
    `  cdk-nag (${r.nag.packs.join(', ')}): ${r.nag.unacknowledged} unacknowledged finding(s), ${r.nag.acknowledged} acknowledged with reasons`,
    `  CDK template validation: ${r.templateValidation === 'on' ? 'passed' : 'skipped (use --validate; deploy always validates)'}`,
    `  ${r.resources.total} resources:`,
    ...Object.entries(r.resources.byType).map(([t, n]) => `    ${t.padEnd(width)}  ${String(n).padStart(3)}`),
  ];
  return lines.join('\n');
}

export interface SynthDeps {
  io: Io;
  /** For tests: a fixed clock. */
  now?: () => number;
}

/**
 * Synthesizes the template into `opts.outdir` in-process (no AWS call) and checks it: cdk-nag always, CDK's
 * template validation with `validate`. Throws one sentence (exit 1) when a check leaves a finding.
 */
export async function runSynth(opts: SynthOptions, deps: SynthDeps): Promise<SynthResult> {
  const now = deps.now ?? Date.now;
  const { io } = deps;
  const { config, outdir, suffix } = opts;
  const started = now();
  // Synthesis takes seconds (about 2 s; CDK's template validation adds 5–6 s): say so instead of a silent terminal.
  io.waiting(`Synthesizing ${names(suffix).stack} and running cdk-nag${opts.validate ? ' and CDK template validation (about 8 s)' : ' (about 2–3 s)'}…`);
  const toolkit = await createToolkit(
    ioHostTo((level, text) => {
      if (level === 'error' || level === 'warn') io.debug(`cdk ${level}: ${text}`);
      else io.debug(`cdk: ${text}`);
    }),
  );
  const source = await assemblySource(toolkit, config, { outdir, validate: opts.validate, nag: true, log: (t) => io.debug(t) });
  try {
    const assembly = await toolkit.synth(source);
    await assembly.dispose();
  } catch (e) {
    throw unwrapSynthError(e);
  }
  const template = templatePath(outdir, suffix);
  const parsed = JSON.parse(readFileSync(template, 'utf8')) as Template;
  const { nag } = checkSynthResult(outdir, { nag: true });
  const packs = nag?.packs ?? [];
  return {
    stack: names(suffix).stack,
    outdir,
    template,
    environment: config.environment,
    certificatePlaceholder: config.certificateIsPlaceholder,
    resources: countResources(parsed),
    nag: { packs: packs.map((p) => p.name), unacknowledged: packs.reduce((sum, p) => sum + p.violations, 0), acknowledged: nag?.acknowledgements ?? 0 },
    templateValidation: opts.validate ? 'on' : 'off',
    durationMs: now() - started,
  };
}

/**
 * Every synth input checked before anything is built or written (exit 2, one sentence and no warning on stderr —
 * only the settings file's name, which says where a bad value came from): the suffix, the stack options (flags over
 * the settings file), the output directory. Only once all are good: the warnings about the placeholder certificate
 * and the AWS-only options that change nothing here.
 */
function parseSynthOptions(cmd: Command, o: StackOptionValues & { settings?: string; output: string; validate: boolean }, ctx: CommandContext): SynthOptions {
  const suffix = ctx.suffix();
  const { values } = resolveStackOptions(cmd, o, suffix, ctx.globals.region, (t) => ctx.io.info(t));
  const config: StackConfig = stackConfigFromOptions(suffix, ctx.globals.region, values);
  const outdir = checkOutputDir(o.output, '--output');
  if (config.certificateIsPlaceholder) {
    ctx.io.warn(`no --certificate-arn: the HTTPS listeners use the placeholder ${config.certificateArn}, which deploy refuses.`);
  }
  // synth calls no AWS API: options that only steer AWS calls change nothing here.
  noEffect(
    ctx.io,
    [
      { flag: '--profile', value: ctx.globals.profile },
      { flag: '--role-arn', value: ctx.globals.roleArn },
    ],
    'for synth (it calls no AWS API)',
  );
  return { suffix, config, outdir, validate: o.validate };
}

export function register(program: Command, runF: RunF<SynthOptions> = async (opts, ctx) => emit(ctx.io, await runSynth(opts, ctx), renderSynth)): void {
  const cmd = program
    .command('synth')
    .description('Synthesize the bgmig-<suffix> CloudFormation template and check it (cdk-nag; CDK validation with --validate). No AWS credentials needed.');
  addStackOptions(cmd)
    .option('--output <dir>', 'cloud assembly directory (the template is <dir>/bgmig-<suffix>.template.json)', 'cdk.out')
    .option('--validate', "also run CDK's built-in CloudFormation template validation (slower; deploy always does)", false)
    .addHelpText(
      'after',
      `
Examples:
  $ bgmig synth --suffix demo
  $ bgmig synth --suffix shop --environment prod --certificate-arn arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234 --ha-nat --validate --json

Exit codes: 0 synthesized and every check passed, 1 a check failed (cdk-nag finding, template validation), 2 bad input (nothing synthesized).`,
    )
    .action(action<StackOptionValues & { settings?: string; output: string; validate: boolean }>(async (ctx, o) => runF(parseSynthOptions(cmd, o, ctx), ctx)));
}
