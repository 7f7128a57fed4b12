/**
 * Promote's gates as a pure policy: given what was read (the latest validation report, green's target health,
 * green's alarms), which gate passes, which refuses and why. Order: (1) validation compatible, (2) green's targets
 * healthy, (3) no green alarm firing. The I/O that reads them lives in src/cli/commands/promote.ts. The report is
 * read through `schemaVerdict`, the one reading promote, db cutover and status share.
 *
 * A gate that cannot be judged (a report whose verdict is `error`: the validator could not compare) is an outage, not
 * a refusal: it is returned as `outage` (promote fails, exit 1, naming the cause and the fix) and never suggests
 * turning the gate off (issue 16 §2) — as db cutover's schema gate does (src/cli/commands/db/switchover-gates.ts).
 */
import { schemaVerdict } from '../schema/verdict.js';
import type { ValidationReport } from '../schema/report.js';

export type GateName = 'validation' | 'green-health' | 'green-alarms';

export interface GateResult {
  gate: GateName;
  /** failed: the gate could not be judged (an outage, see GateVerdict.outage). */
  status: 'passed' | 'refused' | 'skipped' | 'failed';
  detail: string;
}

export interface GateObservation {
  /** undefined with skipValidation. */
  report?: ValidationReport | undefined;
  skipValidation: boolean;
  health: { healthy: number; unhealthy: number; targets: Array<{ id: string; state: string; reason?: string | undefined }> };
  alarms: Array<{ name: string; state: string }>;
}

export interface GateVerdict {
  gates: GateResult[];
  /** The first refusal: its gate, detail and what to do next (one clause). */
  refusal?: { gate: GateName; detail: string; todo: string } | undefined;
  /** A gate that could not be judged (an outage, exit 1): its gate, detail and what to fix — never a gate-off hint. */
  outage?: { gate: GateName; detail: string; todo: string } | undefined;
  /** Alarms listed by the stack but missing in CloudWatch (a warning, not a refusal). */
  missingAlarms: string[];
}

/**
 * One clause on a report for a gate's line or refusal: an error's cause, an incompatible report's breaking count
 * with its first breaking difference as the example, or how many differences a compatible one has.
 */
export function describeReport(r: ValidationReport): string {
  const v = schemaVerdict(r);
  if (v.verdict === 'error') return `the validator could not compare the schemas (${r.error ?? 'no detail'})`;
  if (v.verdict === 'incompatible') {
    const first = r.differences.find((d) => d.severity === 'breaking') ?? r.differences[0];
    return `${v.totals.breaking} breaking difference(s)${first ? `, e.g. ${first.object}: ${first.detail}` : ''}`;
  }
  return `${r.differences.length} difference(s), none breaking`;
}

/** Judges the gates in order and stops at the first refusal (later gates are not listed, as they were not judged). */
export function judgeGates(o: GateObservation): GateVerdict {
  const gates: GateResult[] = [];
  const refuse = (gate: GateName, detail: string, todo: string): GateVerdict => {
    gates.push({ gate, status: 'refused', detail });
    return { gates, refusal: { gate, detail, todo }, missingAlarms: [] };
  };

  if (o.skipValidation) gates.push({ gate: 'validation', status: 'skipped', detail: 'skipped by --skip-validation' });
  else {
    const r = o.report;
    if (!r) return refuse('validation', 'there is no validation report', 'run `bgmig validate` first');
    if (schemaVerdict(r).verdict === 'error') {
      const detail = `the latest validation report (${r.generatedAt}) is error: ${describeReport(r)}`;
      gates.push({ gate: 'validation', status: 'failed', detail });
      return {
        gates,
        outage: { gate: 'validation', detail, todo: 'make both databases answer the validator, then re-run `bgmig validate` and this promote' },
        missingAlarms: [],
      };
    }
    if (schemaVerdict(r).verdict !== 'compatible') {
      return refuse(
        'validation',
        `the latest validation report (${r.generatedAt}) is ${r.verdict}: ${describeReport(r)}`,
        "fix green's schema and re-run `bgmig validate`, or pass --skip-validation if you accept the risk",
      );
    }
    gates.push({ gate: 'validation', status: 'passed', detail: `compatible (${r.generatedAt}, ${describeReport(r)})` });
  }

  const h = o.health;
  if (h.healthy === 0 || h.unhealthy > 0) {
    const bad = h.targets.filter((t) => t.state !== 'healthy' && t.state !== 'draining' && t.state !== 'initial');
    const sample = bad[0] ? ` (${bad[0].id} ${bad[0].state}${bad[0].reason ? `: ${bad[0].reason}` : ''})` : '';
    return refuse(
      'green-health',
      `green's target group has ${h.healthy} healthy and ${h.unhealthy} unhealthy target(s)${sample}`,
      'fix the green service (its ECS events and logs say why) until all its targets are healthy, then re-run',
    );
  }
  gates.push({ gate: 'green-health', status: 'passed', detail: `${h.healthy} healthy, 0 unhealthy` });

  const fired = o.alarms.filter((a) => a.state === 'ALARM');
  if (fired.length > 0) {
    return refuse(
      'green-alarms',
      `${fired.length} green alarm(s) in ALARM (${fired.map((a) => a.name).join(', ')})`,
      'investigate and resolve them before shifting more traffic to green',
    );
  }
  const missing = o.alarms.filter((a) => a.state === 'MISSING').map((a) => a.name);
  gates.push({ gate: 'green-alarms', status: 'passed', detail: `${o.alarms.length - missing.length} alarm(s), none in ALARM` });
  return { gates, missingAlarms: missing };
}
