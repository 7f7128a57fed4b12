/**
 * `bgmig promote --weight N`: green N %, blue 100 − N, in one verified ModifyListener call, after three gates in
 * this order: (1) schema validation compatible, (2) green's targets healthy, (3) no green alarm firing.
 */
import type { Command } from 'commander';
import type { Weights } from '../../core/config.js';
import { BgmigError, ExitCode } from '../../core/errors.js';
import type { ValidationReport } from '../../schema/report.js';
import type { AwsClients } from '../aws.js';
import { action, parseIntStrict, toBgmigError } from '../context.js';
import { alarmNamesOf, alarmStates, firing, targetHealth } from '../health.js';
import type { Io } from '../io.js';
import { readActiveDatabase, type ActiveDatabase } from '../live-state.js';
import { requireStack } from '../stack.js';
import { formatWeights, readWeights, trafficTarget, weightBar, writeWeights } from '../traffic.js';
import { invokeValidator, readLatestReport } from '../validation.js';

export interface PromoteOptions {
  suffix: string;
  /** Green's new share, an integer 0–100 (already validated; see parseWeight). */
  weight: number;
  skipValidation?: boolean;
  /** Run the validator now even when a report exists. */
  validate?: boolean;
  dryRun?: boolean;
}

export type GateName = 'validation' | 'green-health' | 'green-alarms';
export interface GateResult {
  gate: GateName;
  status: 'passed' | 'refused' | 'skipped';
  detail: string;
}

export interface PromoteResult {
  stack: string;
  dryRun: boolean;
  before: Weights;
  after: Weights;
  changed: boolean;
  gates: GateResult[];
  activeDatabase?: ActiveDatabase | undefined;
}

export function parseWeight(value: string): number {
  return parseIntStrict(value, '--weight', 0, 100);
}

function describeReport(r: ValidationReport): string {
  const breaking = r.differences.filter((d) => d.severity === 'breaking');
  if (r.verdict === 'error') return `the validator could not compare the schemas (${r.error ?? 'no detail'})`;
  if (r.verdict === 'incompatible') {
    const first = breaking[0] ?? r.differences[0];
    return `${breaking.length} breaking difference(s)${first ? `, e.g. ${first.object}: ${first.detail}` : ''}`;
  }
  return `${r.differences.length} difference(s), none breaking`;
}

export async function runPromote(opts: PromoteOptions, deps: { io: Io; aws: AwsClients }): Promise<ExitCode> {
  const { io, aws } = deps;
  const desired: Weights = { blue: 100 - opts.weight, green: opts.weight };
  const stack = await requireStack(aws, opts.suffix);
  const target = trafficTarget(stack);

  // Everything the gates need, read in parallel; the validator runs only when there is no report or it is asked.
  const readGreen = () => Promise.all([targetHealth(aws, target.targetGroupArn.green), alarmStates(aws, alarmNamesOf(stack, 'green'))]);
  const [before, report, green] = await Promise.all([
    readWeights(aws, target),
    opts.skipValidation || opts.validate ? Promise.resolve(undefined) : readLatestReport(aws, stack),
    readGreen(),
  ]);
  let [health, alarms] = green;

  const gates: GateResult[] = [];
  const refuse = (gate: GateName, detail: string, todo: string): never => {
    gates.push({ gate, status: 'refused', detail });
    throw new BgmigError(`Promote refused by the ${gate} gate: ${detail} — ${todo}.`, ExitCode.Refused, { details: { gates, before, desired } });
  };

  // Gate 1: the blue application must be able to run against green's schema.
  if (opts.skipValidation) {
    io.warn(io.style.bold('--skip-validation: the schema gate is OFF. Green may be incompatible with the blue application; you are moving traffic without that check.'));
    gates.push({ gate: 'validation', status: 'skipped', detail: 'skipped by --skip-validation' });
  } else {
    let r = report;
    if (!r) {
      io.info(opts.validate ? 'Running schema validation now (--validate)…' : 'No validation report yet: running schema validation now…');
      r = await invokeValidator(aws, stack).catch((e: unknown) => {
        if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
        throw new BgmigError(
          `There is no validation report and the validator function ${stack.outputs.ValidatorFunctionName ?? ''} is not deployed: redeploy with \`bgmig deploy\`, then run \`bgmig validate\` (or pass --skip-validation if you accept the risk).`,
          ExitCode.Failure,
          { cause: e },
        );
      });
    }
    if (r.verdict !== 'compatible') {
      refuse('validation', `the latest validation report (${r.generatedAt}) is ${r.verdict}: ${describeReport(r)}`, 'fix green\'s schema and re-run `bgmig validate`, or pass --skip-validation if you accept the risk');
    }
    gates.push({ gate: 'validation', status: 'passed', detail: `compatible (${r.generatedAt}, ${describeReport(r)})` });
    // A validation run can take a while: judge green's health and alarms as they are now, not as before it.
    if (!report) [health, alarms] = await readGreen();
  }

  // Gate 2: green must have capacity that serves, and nothing failing.
  if (health.healthy === 0 || health.unhealthy > 0) {
    const bad = health.targets.filter((t) => t.state !== 'healthy' && t.state !== 'draining' && t.state !== 'initial');
    const sample = bad[0] ? ` (${bad[0].id} ${bad[0].state}${bad[0].reason ? `: ${bad[0].reason}` : ''})` : '';
    refuse(
      'green-health',
      `green's target group has ${health.healthy} healthy and ${health.unhealthy} unhealthy target(s)${sample}`,
      "fix the green service (its ECS events and logs say why) until all its targets are healthy, then re-run",
    );
  }
  gates.push({ gate: 'green-health', status: 'passed', detail: `${health.healthy} healthy, 0 unhealthy` });

  // Gate 3: no green alarm firing.
  const fired = firing(alarms);
  if (fired.length > 0) {
    refuse('green-alarms', `${fired.length} green alarm(s) in ALARM (${fired.map((a) => a.name).join(', ')})`, 'investigate and resolve them before shifting more traffic to green');
  }
  const missing = alarms.filter((a) => a.state === 'MISSING');
  if (missing.length > 0) io.warn(`green alarm(s) ${missing.map((a) => a.name).join(', ')} do not exist in CloudWatch: redeploy to restore them.`);
  gates.push({ gate: 'green-alarms', status: 'passed', detail: `${alarms.length - missing.length} alarm(s), none in ALARM` });

  if (opts.dryRun) {
    const result: PromoteResult = { stack: stack.name, dryRun: true, before, after: desired, changed: false, gates };
    io.result(result, () =>
      [
        `Dry run — nothing changed. Every gate passed:`,
        ...gates.map((g) => `  ${g.status === 'skipped' ? io.style.yellow('!') : io.style.green('✔')} ${g.gate}: ${g.detail}`),
        `Would set ${stack.name}: ${formatWeights(before)} → ${formatWeights(desired)}`,
      ].join('\n'),
    );
    return ExitCode.Ok;
  }

  const res = await writeWeights(aws, target, desired, { expected: before });
  // Traffic has moved and was verified: a problem reading the db record must not turn that into a failure.
  let db: ActiveDatabase | undefined;
  try {
    db = await readActiveDatabase(aws, stack);
  } catch (e) {
    io.warn(`traffic moved, but which database both colours use is unknown: ${e instanceof BgmigError ? e.message : toBgmigError(e, { aws }).message}`);
  }
  const result: PromoteResult = { stack: stack.name, dryRun: false, before: res.before, after: res.after, changed: res.changed, gates, activeDatabase: db };
  io.result(result, () =>
    [
      ...gates.map((g) => `  ${g.status === 'skipped' ? io.style.yellow('!') : io.style.green('✔')} ${g.gate}: ${g.detail}`),
      res.changed
        ? `${io.style.green('✔')} Promoted ${stack.name}: ${formatWeights(res.before)} → ${formatWeights(res.after)} (verified by read-back)`
        : `${io.style.green('✔')} ${stack.name} already had ${formatWeights(res.after)} (verified): nothing to change.`,
      `  ${weightBar(res.after, { blue: io.style.blue, green: io.style.green })}`,
      db ? `  Both colours use the ${db.color} database (${db.clusterIdentifier}).` : '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  return ExitCode.Ok;
}

export function register(program: Command): void {
  program
    .command('promote')
    .description("shift traffic to green: green gets --weight %, blue the rest, after the validation, health and alarm gates")
    .requiredOption('--weight <percent>', "green's share of traffic, a whole number 0–100")
    .option('--skip-validation', 'do not require a compatible schema validation verdict (loud warning)', false)
    .option('--validate', 'run the schema validator now instead of using the latest report', false)
    .option('--dry-run', 'check the gates and print what would change; change nothing', false)
    .addHelpText(
      'after',
      `
Gates, in order (a refusal exits 3 and names the gate):
  1. validation     the latest schema validation verdict is "compatible" (runs the validator when there is none)
  2. green-health   green's target group has at least one healthy target and none unhealthy
  3. green-alarms   no green alarm is in ALARM

Example:
  $ bgmig promote --suffix shop-prod --weight 30
  ✔ Promoted bgmig-shop-prod: blue 100 / green 0 → blue 70 / green 30 (verified by read-back)`,
    )
    .action(
      action<{ weight: string; skipValidation: boolean; validate: boolean; dryRun: boolean }>(async (ctx, o) => {
        const weight = parseWeight(o.weight);
        return runPromote({ suffix: ctx.suffix(), weight, skipValidation: o.skipValidation, validate: o.validate, dryRun: o.dryRun }, ctx);
      }),
    );
}
