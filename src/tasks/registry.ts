import { AppError } from '../errors.js';
import type { TaskDefinition } from './types.js';

export interface TaskRegistry {
  get(name: string): TaskDefinition;
  has(name: string): boolean;
  list(): readonly TaskDefinition[];
}

/** A frozen name → task map; an unknown name fails with a message that lists the valid ones. */
export function createTaskRegistry(tasks: readonly TaskDefinition[]): TaskRegistry {
  const byName = new Map(tasks.map((t) => [t.name, t] as const));
  if (byName.size !== tasks.length) throw new Error('createTaskRegistry: duplicate task names');
  const all = Object.freeze([...tasks]);
  return {
    get(name) {
      const task = byName.get(name);
      if (!task) {
        throw new AppError('INVALID_REQUEST', `Unknown operation "${name}". Valid operations: ${[...byName.keys()].join(', ')}.`, {
          details: { valid: [...byName.keys()] },
        });
      }
      return task;
    },
    has: (name) => byName.has(name),
    list: () => all,
  };
}
