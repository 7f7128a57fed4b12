/**
 * The IoHost bgmig gives @aws-cdk/toolkit-lib: renders the toolkit's messages for an operator and answers its
 * approval requests according to --require-approval.
 *
 * - On a terminal: an ora spinner with "resources done / total, the resource in progress, elapsed time".
 * - Otherwise (pipes, CI, --json): one plain line per stack event, on the human stream (stderr under --json), so
 *   logs stay readable and stdout stays machine-only.
 * - Approvals (CDK_TOOLKIT_I5060, "deploy security-sensitive changes"): `never` approves, `broadening` asks only
 *   when IAM/security-group permissions widen (the CDK CLI's default), `any-change` asks whenever there is a change.
 *   Asking goes through Io.confirm: --yes approves, no terminal refuses (exit 3, nothing deployed).
 *
 * Only type imports from toolkit-lib here: this module is loaded by deploy/diff/destroy/bootstrap only.
 */
import type { IIoHost, IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';
import type { Ora } from 'ora';
import { badInput } from '../core/errors.js';
import type { Io } from './io.js';

export type RequireApproval = 'never' | 'broadening' | 'any-change';
export const REQUIRE_APPROVAL: readonly RequireApproval[] = ['never', 'broadening', 'any-change'];

export function parseRequireApproval(v: string | undefined): RequireApproval {
  const value = v ?? 'broadening';
  if ((REQUIRE_APPROVAL as readonly string[]).includes(value)) return value as RequireApproval;
  throw badInput(`--require-approval must be one of ${REQUIRE_APPROVAL.join(', ')}, got "${value}".`);
}

/** Message codes bgmig renders itself (stack monitoring) or keeps behind --verbose (SDK call traces). */
const CODE = {
  approveDeploy: 'CDK_TOOLKIT_I5060',
  approveDestroy: 'CDK_TOOLKIT_I7010',
  monitorStart: 'CDK_TOOLKIT_I5501',
  monitorActivity: 'CDK_TOOLKIT_I5502',
  monitorEnd: 'CDK_TOOLKIT_I5503',
  sdkTrace: 'CDK_SDK_I0100',
} as const;

interface MonitorStart {
  stackName?: string;
  resourcesTotal?: number;
}
interface Activity {
  event?: { LogicalResourceId?: string; ResourceType?: string; ResourceStatus?: string; ResourceStatusReason?: string };
  progress?: { completed?: number; total?: number };
}

function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class ToolkitIoHost implements IIoHost {
  /** Set when the operator (or the policy) declined an approval: the command then reports "not approved". */
  declined = false;
  /** Every error-level message, for a one-sentence summary if the action fails. */
  readonly errors: string[] = [];
  private spinner: Ora | undefined;
  private stackStarted = 0;
  private stackName = '';
  private total: number | undefined;

  /** Set after the toolkit's security warning in a diff: the security tables that follow repeat the diff's own. */
  private skipSecurityTables = false;

  constructor(
    private readonly io: Io,
    private readonly requireApproval: RequireApproval = 'broadening',
    /** Which bgmig command drives the toolkit: its messages are worded for that command (see rewrite()). */
    private readonly command: 'deploy' | 'diff' | 'destroy' | 'bootstrap' = 'deploy',
  ) {}

  /**
   * The toolkit words some messages for the CDK CLI; bgmig rewords or drops them (issue 16, kind 3):
   * - diff: the approval wording ("Please confirm you intend to make the following modifications") in a read-only
   *   command becomes one line saying deploy will ask, and the security tables it prints next are dropped (the diff
   *   itself shows them: they were printed twice); "Please run 'cdk bootstrap'" is not bgmig's command, and a
   *   template-only diff does not need bootstrapping, so it goes to --verbose.
   * - bootstrap: "Pass '--cloudformation-execution-policies' to customize" names a CDK CLI option; bgmig's is
   *   --execution-policy.
   * Returns the text to show at `level`, or undefined to show nothing (debug only).
   */
  rewrite(level: string, text: string): { level: 'info' | 'warn' | 'error'; text: string } | undefined {
    if (this.command === 'diff') {
      if (level === 'warn' && /potentially sensitive changes/.test(text)) {
        this.skipSecurityTables = true;
        return {
          level: 'info',
          text: 'These changes widen IAM or security-group permissions (see the tables below): `bgmig deploy` will ask for approval before applying them.',
        };
      }
      if (this.skipSecurityTables && level === 'info') {
        this.skipSecurityTables = false;
        return undefined;
      }
      // Only the toolkit's own advice (warnings/errors): a diff's text itself may mention "CDK Bootstrap" resources.
      if ((level === 'warn' || level === 'error') && /Please run \\?'cdk bootstrap|been bootstrapped\?/.test(text)) return undefined;
    }
    if ((level === 'warn' || level === 'error') && /Please run \\?'cdk bootstrap/.test(text))
      return {
        level: level === 'error' ? 'error' : 'warn',
        text: text.replace(/Please run 'cdk bootstrap'\.?|Please run \\?'cdk bootstrap\\?'/g, 'Run `bgmig bootstrap`.'),
      };
    if (this.command === 'bootstrap' && /--cloudformation-execution-policies/.test(text)) {
      return {
        level: 'warn',
        text: text.replace(
          /Pass '--cloudformation-execution-policies' to customize\.?/,
          'Pass --execution-policy ARN (repeatable) to `bgmig bootstrap` to restrict it.',
        ),
      };
    }
    return level === 'error' || level === 'warn' || level === 'info' ? { level, text } : undefined;
  }

  private get tty(): boolean {
    return this.io.interactive;
  }

  async notify(msg: IoMessage<unknown>): Promise<void> {
    switch (msg.code) {
      case CODE.monitorStart: {
        const d = (msg.data ?? {}) as MonitorStart;
        this.stackName = d.stackName ?? '';
        this.total = d.resourcesTotal;
        this.stackStarted = Date.now();
        if (this.tty) {
          const { default: ora } = await import('ora');
          // Io.interactive already established that a person watches this stream (and not CI).
          this.spinner = ora({ text: `${this.stackName}: starting…`, stream: this.io.humanStream, isEnabled: true }).start();
        } else this.io.info(`${this.stackName}: deploying${this.total ? ` (${this.total} resources)` : ''}`);
        return;
      }
      case CODE.monitorActivity: {
        const d = (msg.data ?? {}) as Activity;
        const done = d.progress?.completed ?? 0;
        const total = d.progress?.total ?? this.total;
        const ev = d.event ?? {};
        const elapsed = formatElapsed(Date.now() - this.stackStarted);
        const what = `${ev.LogicalResourceId ?? '?'} ${ev.ResourceStatus ?? ''}`.trim();
        if (this.spinner) this.spinner.text = `${this.stackName}: ${done}/${total ?? '?'} resources — ${what} (${elapsed})`;
        else
          this.io.info(
            `  [${done}/${total ?? '?'}] ${what}${ev.ResourceStatusReason && /FAILED/.test(ev.ResourceStatus ?? '') ? ` — ${ev.ResourceStatusReason}` : ''} (${elapsed})`,
          );
        return;
      }
      case CODE.monitorEnd: {
        const elapsed = formatElapsed(Date.now() - this.stackStarted);
        if (this.spinner) {
          this.spinner.stop();
          this.spinner = undefined;
        }
        this.io.info(`${this.stackName}: CloudFormation finished (${elapsed})`);
        return;
      }
      case CODE.sdkTrace:
        this.io.debug(msg.message);
        return;
      default:
        break;
    }
    const shown =
      msg.level === 'error' || msg.level === 'warn' || msg.level === 'info' || msg.level === 'result'
        ? this.rewrite(msg.level === 'result' ? 'info' : msg.level, msg.message)
        : undefined;
    if (!shown) {
      this.io.debug(`${msg.code ?? msg.level}: ${msg.message}`);
      return;
    }
    switch (shown.level) {
      case 'error':
        this.errors.push(shown.text);
        this.pauseSpinner(() => this.io.error(shown.text));
        return;
      case 'warn':
        this.pauseSpinner(() => this.io.warn(shown.text));
        return;
      default:
        this.pauseSpinner(() => this.io.info(shown.text));
    }
  }

  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    if (msg.code === CODE.approveDeploy) {
      const change = ((msg.data ?? {}) as { permissionChangeType?: string }).permissionChangeType;
      const ask = this.requireApproval === 'any-change' || (this.requireApproval === 'broadening' && change === 'broadening');
      if (!ask) return true as T;
      this.pauseSpinner(() => this.io.streams.stderr.write(`${msg.message}\n`));
      const ok = await this.io.confirm(
        change === 'broadening' ? 'This deployment widens IAM or security-group permissions (see above). Deploy?' : 'Deploy these changes (see above)?',
      );
      if (!ok) this.declined = true;
      return ok as T;
    }
    if (msg.code === CODE.approveDestroy) {
      // bgmig destroy asks its own, stronger question (type the suffix) before calling the toolkit.
      return true as T;
    }
    return msg.defaultResponse;
  }

  private pauseSpinner(write: () => void): void {
    if (!this.spinner) {
      write();
      return;
    }
    this.spinner.clear();
    write();
    this.spinner.render();
  }

  /** Stops any spinner (on failure paths). */
  dispose(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}
