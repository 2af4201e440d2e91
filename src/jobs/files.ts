import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A job's files under DATA_DIR/jobs/<id>/. Writes are durable before they are visible: data goes to
 * a temporary name, is fsynced, renamed into place, and the directory is fsynced so the rename
 * survives a power cut. The queue writes the input this way before it inserts the row.
 */
export class JobFiles {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'jobs');
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** The main input is `input`; a multi-image task's further ones are `input.<field>`. */
  inputPath(id: string, field?: string): string {
    return path.join(this.dir(id), field ? `input.${field}` : 'input');
  }

  resultPath(id: string): string {
    return path.join(this.dir(id), 'result');
  }

  async writeInput(id: string, bytes: Buffer, field?: string): Promise<string> {
    return this.writeDurably(this.inputPath(id, field), bytes);
  }

  async writeResult(id: string, bytes: Buffer): Promise<string> {
    return this.writeDurably(this.resultPath(id), bytes);
  }

  async read(file: string): Promise<Buffer> {
    return fs.readFile(file);
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.dir(id), { recursive: true, force: true });
  }

  /** Job directories on disk, with their last change time (to find orphans of a crash). */
  async listDirs(): Promise<Array<{ id: string; mtimeMs: number }>> {
    const names = await fs.readdir(this.root).catch(() => [] as string[]);
    const stats = await Promise.all(names.map(async (id) => ({ id, stat: await fs.stat(path.join(this.root, id)).catch(() => undefined) })));
    return stats.flatMap(({ id, stat }) => (stat?.isDirectory() ? [{ id, mtimeMs: stat.mtimeMs }] : []));
  }

  private async writeDurably(file: string, bytes: Buffer): Promise<string> {
    const dir = path.dirname(file);
    await fs.mkdir(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    // The job directory may be new too: its entry lives in the parent.
    await syncDir(dir);
    await syncDir(path.dirname(dir));
    return file;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
