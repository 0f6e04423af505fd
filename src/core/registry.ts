/**
 * @file The one registry type every extension role uses (strategies, surrogates, extractors,
 * defenses, wire formats, reporters, audit stores, text extractors): a name -> factory table whose
 * entries carry a schema for their options. Options are validated once, when the product is built;
 * CLI choices, config checks, `--list` output and "known: ..." error messages all read the names from
 * here, so adding an implementation is one file and one `entries` line (or one `register` call).
 * The schema type is structural (zod's `safeParse` fits it), so core/ stays free of packages.
 */
import { HeistError } from './errors.js';

export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export type SchemaResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: { readonly issues: readonly SchemaIssue[] } };

/** Anything with zod's `safeParse` shape. */
export interface OptionsSchema<T> {
  safeParse(input: unknown): SchemaResult<T>;
}

export interface RegistryEntry<Options, Deps, Product> {
  /** Registry key = file name = CLI name: lower-case words joined by '-'. */
  readonly name: string;
  /** One line for `--help`, `--list` and reports. */
  readonly summary: string;
  /** The paper the entry implements, when it implements one. */
  readonly paper?: string;
  readonly options: OptionsSchema<Options>;
  /** Options that build a working product: what the role's conformance suite constructs it with. */
  readonly example?: unknown;
  create(options: Options, deps: Deps): Product;
}

/** The element type of a registry: each entry keeps its own options type (methods are bivariant). */
export type AnyEntry<Deps, Product> = RegistryEntry<unknown, Deps, Product>;

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function describeIssue(issue: SchemaIssue | undefined): string {
  if (!issue) return 'invalid options';
  const at = issue.path.length > 0 ? issue.path.map(String).join('.') : '(options)';
  return `${at}: ${issue.message}`;
}

/** D: what every factory of the role is handed; P: what it builds; E: the role's entry type. */
export class Registry<D, P, E extends AnyEntry<D, P> = AnyEntry<D, P>> {
  private readonly table = new Map<string, E>();

  /** `role` names the kind of thing in messages, e.g. 'strategy' or 'audit store'. */
  constructor(
    readonly role: string,
    entries: readonly E[] = [],
  ) {
    for (const e of entries) this.register(e);
  }

  /** Adds an entry; a bad or duplicate name is HEIST_ERR_BAD_CONFIG. */
  register(entry: E): this {
    if (!NAME.test(entry.name))
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `${this.role} name "${entry.name}" must be lower-case words joined by '-'`,
      );
    if (this.table.has(entry.name))
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `a ${this.role} named "${entry.name}" is already registered`);
    this.table.set(entry.name, entry);
    return this;
  }

  /** Removes an entry (tests that register a temporary one). */
  unregister(name: string): void {
    this.table.delete(name);
  }

  names(): string[] {
    return [...this.table.keys()];
  }

  entries(): E[] {
    return [...this.table.values()];
  }

  has(name: string): boolean {
    return this.table.has(name);
  }

  /** The entry, or HEIST_ERR_BAD_CONFIG naming the known ones. */
  get(name: string): E {
    const e = this.table.get(name);
    if (!e)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `unknown ${this.role} "${name}" (known: ${this.names().join(', ')})`,
      );
    return e;
  }

  /** Validates `options` against the entry's schema (HEIST_ERR_BAD_CONFIG naming the key), once. */
  parseOptions<O>(entry: RegistryEntry<O, D, P>, options: unknown): O {
    const r = entry.options.safeParse(options ?? {});
    if (!r.success) {
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `${this.role} "${entry.name}": bad option ${describeIssue(r.error.issues[0])}`,
        {
          details: r.error.issues,
        },
      );
    }
    return r.data;
  }

  /** Looks the name up, validates the options, and builds the product. */
  create(name: string, options: unknown, deps: D): P {
    const entry = this.get(name);
    return entry.create(this.parseOptions(entry, options), deps);
  }
}
