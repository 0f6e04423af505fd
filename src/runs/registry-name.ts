/**
 * @file A zod schema for "a name in this registry", checked when the config is parsed (so a name
 * registered later, e.g. by a library user, is accepted), with the known names in the message.
 */
import { z } from 'zod';

export function registryName(registry: { readonly role: string; has(name: string): boolean; names(): string[] }) {
  return z.string().superRefine((name, ctx) => {
    if (!registry.has(name))
      ctx.addIssue({
        code: 'custom',
        message: `unknown ${registry.role} "${name}" (known: ${registry.names().join(', ')})`,
      });
  });
}
