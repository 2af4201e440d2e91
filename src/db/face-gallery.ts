import { randomUUID } from 'node:crypto';
import { migrate, type Db } from './database.js';

/**
 * The face gallery: subjects and their enrolled face embeddings, per owner. Only embeddings are
 * stored, never images. Every query carries the owner, so one owner's ids are simply not found
 * by another.
 */
export const FACE_GALLERY_MIGRATIONS = [
  {
    version: 1,
    sql: `
      CREATE TABLE face_subjects (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        metadata TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX face_subjects_owner ON face_subjects (owner, created_at);
      CREATE TABLE face_embeddings (
        id TEXT PRIMARY KEY,
        subject_id TEXT NOT NULL REFERENCES face_subjects (id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        model TEXT NOT NULL,
        dims INTEGER NOT NULL,
        embedding BLOB NOT NULL,
        box TEXT,
        score REAL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX face_embeddings_owner ON face_embeddings (owner);
      CREATE INDEX face_embeddings_subject ON face_embeddings (subject_id);`,
  },
] as const;

export interface Subject {
  id: string;
  name: string;
  metadata: Record<string, unknown> | null;
  createdAt: string;
  faceCount: number;
}

export interface EnrolledFace {
  id: string;
  subjectId: string;
  model: string;
  box: unknown;
  score: number | null;
  createdAt: string;
}

export interface SubjectMatch {
  subjectId: string;
  name: string;
  /** Cosine similarity of the subject's best-matching enrolled face. */
  similarity: number;
  faceId: string;
}

interface SubjectRow {
  id: string;
  name: string;
  metadata: string | null;
  created_at: number;
  face_count: number;
}

interface FaceRow {
  id: string;
  subject_id: string;
  model: string;
  box: string | null;
  score: number | null;
  created_at: number;
}

export interface FaceGalleryOptions {
  /** Embedding length the in-memory index holds; rows of another length are ignored by search. */
  dims?: number;
  /**
   * Memory for owners' in-memory search indexes (FACE_INDEX_CACHE_MB). Beyond it the least
   * recently searched owners' indexes are dropped and reloaded from SQLite on their next search
   * (10 000 faces: ~90–265 ms), so many tenants cannot grow the process without bound.
   */
  cacheMB?: number;
  now?: () => number;
  newId?: () => string;
}

export class FaceGallery {
  private readonly dims: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  /** Least recently searched first: a Map keeps insertion order, and a hit re-inserts. */
  private readonly indexes = new Map<string, OwnerIndex>();
  private readonly cacheFaces: number;

  constructor(
    private readonly db: Db,
    opts: FaceGalleryOptions = {},
  ) {
    migrate(db, 'face_gallery', FACE_GALLERY_MIGRATIONS);
    this.dims = opts.dims ?? 512;
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? randomUUID;
    this.cacheFaces = Math.floor(((opts.cacheMB ?? 256) * 1024 * 1024) / (this.dims * Float32Array.BYTES_PER_ELEMENT));
  }

  createSubject(owner: string, input: { name: string; metadata?: Record<string, unknown> }): Subject {
    const id = this.newId();
    const createdAt = this.now();
    const metadata = input.metadata === undefined ? null : JSON.stringify(input.metadata);
    this.db
      .prepare('INSERT INTO face_subjects (id, owner, name, metadata, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, owner, input.name, metadata, createdAt);
    return { id, name: input.name, metadata: input.metadata ?? null, createdAt: iso(createdAt), faceCount: 0 };
  }

  listSubjects(owner: string, page: { limit: number; offset: number }): { subjects: Subject[]; total: number } {
    const rows = this.db
      .prepare(`${SUBJECT_SELECT} WHERE s.owner = ? GROUP BY s.id ORDER BY s.created_at, s.id LIMIT ? OFFSET ?`)
      .all(owner, page.limit, page.offset) as SubjectRow[];
    const total = this.db.prepare('SELECT COUNT(*) FROM face_subjects WHERE owner = ?').pluck().get(owner) as number;
    return { subjects: rows.map(toSubject), total };
  }

  /** The owner's subjects with this name, oldest first (names are not unique; compatibility APIs key on them). */
  subjectsNamed(owner: string, name: string): Subject[] {
    const rows = this.db
      .prepare(`${SUBJECT_SELECT} WHERE s.owner = ? AND s.name = ? GROUP BY s.id ORDER BY s.created_at, s.id`)
      .all(owner, name) as SubjectRow[];
    return rows.map(toSubject);
  }

  getSubject(owner: string, id: string): (Subject & { faces: EnrolledFace[] }) | undefined {
    const row = this.db
      .prepare(`${SUBJECT_SELECT} WHERE s.owner = ? AND s.id = ? GROUP BY s.id`)
      .get(owner, id) as SubjectRow | undefined;
    if (!row) return undefined;
    const faces = this.db
      .prepare('SELECT id, subject_id, model, box, score, created_at FROM face_embeddings WHERE owner = ? AND subject_id = ? ORDER BY created_at, id')
      .all(owner, id) as FaceRow[];
    return { ...toSubject(row), faces: faces.map(toFace) };
  }

  deleteSubject(owner: string, id: string): boolean {
    const removed = this.db.prepare('DELETE FROM face_subjects WHERE owner = ? AND id = ?').run(owner, id).changes > 0;
    if (removed) this.indexes.get(owner)?.removeSubject(id);
    return removed;
  }

  /** Every distinct subject name of the owner, in the order first created (compatibility APIs list names). */
  subjectNamesOf(owner: string): string[] {
    return this.db.prepare('SELECT name FROM face_subjects WHERE owner = ? GROUP BY name ORDER BY MIN(created_at), MIN(id)').pluck().all(owner) as string[];
  }

  /** Deletes every subject (and face) of the owner; answers how many subjects went. */
  deleteAllSubjects(owner: string): number {
    const deleted = this.db.prepare('DELETE FROM face_subjects WHERE owner = ?').run(owner).changes;
    this.indexes.delete(owner);
    return deleted;
  }

  /** Stores one face of a subject; undefined when the subject is not the owner's. */
  addFace(
    owner: string,
    subjectId: string,
    face: { embedding: Float32Array; model: string; box?: unknown; score?: number },
  ): EnrolledFace | undefined {
    const exists = this.db.prepare('SELECT 1 FROM face_subjects WHERE owner = ? AND id = ?').get(owner, subjectId);
    if (!exists) return undefined;
    const id = this.newId();
    const createdAt = this.now();
    const blob = Buffer.from(face.embedding.buffer, face.embedding.byteOffset, face.embedding.byteLength);
    const box = face.box === undefined ? null : JSON.stringify(face.box);
    this.db
      .prepare('INSERT INTO face_embeddings (id, subject_id, owner, model, dims, embedding, box, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, subjectId, owner, face.model, face.embedding.length, blob, box, face.score ?? null, createdAt);
    if (face.embedding.length === this.dims) this.indexes.get(owner)?.add(id, subjectId, face.embedding);
    return { id, subjectId, model: face.model, box: face.box ?? null, score: face.score ?? null, createdAt: iso(createdAt) };
  }

  deleteFace(owner: string, subjectId: string, faceId: string): boolean {
    const removed = this.db
      .prepare('DELETE FROM face_embeddings WHERE owner = ? AND subject_id = ? AND id = ?')
      .run(owner, subjectId, faceId).changes > 0;
    if (removed) this.indexes.get(owner)?.removeFace(faceId);
    return removed;
  }

  /** The k subjects whose best enrolled face is most similar to `embedding` (L2-normalised). */
  search(owner: string, embedding: Float32Array, k: number): SubjectMatch[] {
    if (embedding.length !== this.dims) throw new RangeError(`search expects a ${this.dims}-d embedding, got ${embedding.length}`);
    const top = this.index(owner).topSubjects(embedding, k);
    if (top.length === 0) return [];
    const names = this.subjectNames(owner, top.map((m) => m.subjectId));
    return top.map((m) => ({ ...m, name: names.get(m.subjectId) ?? '' }));
  }

  /** The owner's enrolled faces with their subject's name, oldest first, optionally of one name. */
  listFaces(owner: string, q: { name?: string; limit: number; offset: number }): { faces: { id: string; subject: string }[]; total: number } {
    const where = q.name === undefined ? 'f.owner = ?' : 'f.owner = ? AND s.name = ?';
    const args = q.name === undefined ? [owner] : [owner, q.name];
    const faces = this.db
      .prepare(`SELECT f.id, s.name AS subject FROM face_embeddings f JOIN face_subjects s ON s.id = f.subject_id WHERE ${where} ORDER BY f.created_at, f.id LIMIT ? OFFSET ?`)
      .all(...args, q.limit, q.offset) as { id: string; subject: string }[];
    const total = this.db.prepare(`SELECT COUNT(*) FROM face_embeddings f JOIN face_subjects s ON s.id = f.subject_id WHERE ${where}`).pluck().get(...args) as number;
    return { faces, total };
  }

  /** One enrolled face by id, with its subject's name and its embedding. */
  face(owner: string, faceId: string): { id: string; subject: string; subjectId: string; embedding: Float32Array } | undefined {
    const row = this.db
      .prepare('SELECT f.id, f.subject_id, f.embedding, s.name FROM face_embeddings f JOIN face_subjects s ON s.id = f.subject_id WHERE f.owner = ? AND f.id = ?')
      .get(owner, faceId) as { id: string; subject_id: string; embedding: Buffer; name: string } | undefined;
    if (!row) return undefined;
    const embedding = new Float32Array(row.embedding.buffer.slice(row.embedding.byteOffset, row.embedding.byteOffset + row.embedding.byteLength));
    return { id: row.id, subject: row.name, subjectId: row.subject_id, embedding };
  }

  /**
   * Renames every subject called `from`; when subjects called `to` exist already, the faces move
   * to the oldest of them and the renamed ones go (CompreFace's merge).
   */
  rename(owner: string, from: string, to: string): boolean {
    const sources = this.subjectsNamed(owner, from);
    if (sources.length === 0 || from === to) return sources.length > 0;
    const target = this.subjectsNamed(owner, to)[0];
    this.db.transaction(() => {
      for (const s of sources) {
        if (target) {
          this.db.prepare('UPDATE face_embeddings SET subject_id = ? WHERE owner = ? AND subject_id = ?').run(target.id, owner, s.id);
          this.db.prepare('DELETE FROM face_subjects WHERE owner = ? AND id = ?').run(owner, s.id);
        } else {
          this.db.prepare('UPDATE face_subjects SET name = ? WHERE owner = ? AND id = ?').run(to, owner, s.id);
        }
      }
    })();
    // Faces changed subject: the owner's index is rebuilt on its next search.
    this.indexes.delete(owner);
    return true;
  }

  /** Faces the owner's in-memory index holds (loads it on first use). */
  indexedFaces(owner: string): number {
    return this.index(owner).size;
  }

  private subjectNames(owner: string, ids: string[]): Map<string, string> {
    const rows = this.db
      .prepare(`SELECT id, name FROM face_subjects WHERE owner = ? AND id IN (${ids.map(() => '?').join(',')})`)
      .all(owner, ...ids) as { id: string; name: string }[];
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  private index(owner: string): OwnerIndex {
    let index = this.indexes.get(owner);
    if (index) {
      this.indexes.delete(owner);
    } else {
      index = new OwnerIndex(this.dims);
      const rows = this.db
        .prepare('SELECT id, subject_id, embedding FROM face_embeddings WHERE owner = ? AND dims = ?')
        .iterate(owner, this.dims) as IterableIterator<{ id: string; subject_id: string; embedding: Buffer }>;
      for (const row of rows) {
        index.add(row.id, row.subject_id, new Float32Array(row.embedding.buffer.slice(row.embedding.byteOffset, row.embedding.byteOffset + row.embedding.byteLength)));
      }
    }
    this.indexes.set(owner, index);
    this.evictBeyond(this.cacheFaces, owner);
    return index;
  }

  /** Drops the least recently searched indexes until the rest fit; `keep` (the one in use) stays. */
  private evictBeyond(faces: number, keep: string): void {
    let total = 0;
    for (const index of this.indexes.values()) total += index.size;
    for (const [owner, index] of this.indexes) {
      if (total <= faces) return;
      if (owner === keep) continue;
      this.indexes.delete(owner);
      total -= index.size;
    }
  }
}

const SUBJECT_SELECT = `SELECT s.id, s.name, s.metadata, s.created_at, COUNT(f.id) AS face_count
  FROM face_subjects s LEFT JOIN face_embeddings f ON f.subject_id = s.id`;

const iso = (ms: number) => new Date(ms).toISOString();

function toSubject(r: SubjectRow): Subject {
  const metadata = r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>);
  return { id: r.id, name: r.name, metadata, createdAt: iso(r.created_at), faceCount: r.face_count };
}

function toFace(r: FaceRow): EnrolledFace {
  return {
    id: r.id,
    subjectId: r.subject_id,
    model: r.model,
    box: r.box === null ? null : (JSON.parse(r.box) as unknown),
    score: r.score,
    createdAt: iso(r.created_at),
  };
}

/**
 * One owner's embeddings as a packed row-major Float32Array matrix, so a search is one tight
 * dot-product scan (10 000 × 512 in ≈ 5 ms, bench/faces.ts) instead of a SQLite read per request.
 * Removal swaps the last row into the hole, so the matrix stays dense.
 */
export class OwnerIndex {
  private matrix: Float32Array;
  private faceIds: string[] = [];
  /** Per row, the subject's ordinal: small ints make the best-per-subject pass a typed-array loop. */
  private rowSubject: number[] = [];
  private readonly ordinals = new Map<string, number>();
  private readonly subjectOf: string[] = [];

  constructor(private readonly dims: number, capacity = 64) {
    this.matrix = new Float32Array(capacity * dims);
  }

  get size(): number {
    return this.faceIds.length;
  }

  add(faceId: string, subjectId: string, embedding: Float32Array): void {
    const row = this.faceIds.length;
    if ((row + 1) * this.dims > this.matrix.length) {
      const grown = new Float32Array(Math.max(this.matrix.length * 2, (row + 1) * this.dims));
      grown.set(this.matrix);
      this.matrix = grown;
    }
    this.matrix.set(embedding.subarray(0, this.dims), row * this.dims);
    this.faceIds.push(faceId);
    this.rowSubject.push(this.ordinal(subjectId));
  }

  removeFace(faceId: string): void {
    const row = this.faceIds.indexOf(faceId);
    if (row >= 0) this.removeRow(row);
  }

  removeSubject(subjectId: string): void {
    const ordinal = this.ordinals.get(subjectId);
    if (ordinal === undefined) return;
    for (let row = this.rowSubject.length - 1; row >= 0; row--) {
      if (this.rowSubject[row] === ordinal) this.removeRow(row);
    }
  }

  /** The k subjects with the most similar face, each with that face, best first. */
  topSubjects(query: Float32Array, k: number): { subjectId: string; faceId: string; similarity: number }[] {
    const scores = this.scan(query);
    const bestRow = new Int32Array(this.subjectOf.length).fill(-1);
    for (let row = 0; row < scores.length; row++) {
      const s = this.rowSubject[row]!;
      const b = bestRow[s]!;
      if (b < 0 || scores[row]! > scores[b]!) bestRow[s] = row;
    }
    const top: number[] = [];
    for (const row of bestRow) {
      if (row < 0) continue;
      if (top.length === k && scores[row]! <= scores[top[k - 1]!]!) continue;
      let i = Math.min(top.length, k - 1);
      while (i > 0 && scores[top[i - 1]!]! < scores[row]!) i--;
      top.splice(i, 0, row);
      if (top.length > k) top.pop();
    }
    return top.map((row) => ({ subjectId: this.subjectOf[this.rowSubject[row]!]!, faceId: this.faceIds[row]!, similarity: scores[row]! }));
  }

  private ordinal(subjectId: string): number {
    let o = this.ordinals.get(subjectId);
    if (o === undefined) {
      o = this.subjectOf.length;
      this.ordinals.set(subjectId, o);
      this.subjectOf.push(subjectId);
    }
    return o;
  }

  /** Dot product of `query` with every row. */
  scan(query: Float32Array): Float32Array {
    const n = this.faceIds.length;
    const d = this.dims;
    const m = this.matrix;
    const q = query;
    const out = new Float32Array(n);
    const d4 = d - (d % 4);
    for (let row = 0, base = 0; row < n; row++, base += d) {
      // four independent sums let the JIT overlap the multiply-adds (≈2× over one accumulator)
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j < d4; j += 4) {
        s0 += m[base + j]! * q[j]!;
        s1 += m[base + j + 1]! * q[j + 1]!;
        s2 += m[base + j + 2]! * q[j + 2]!;
        s3 += m[base + j + 3]! * q[j + 3]!;
      }
      for (; j < d; j++) s0 += m[base + j]! * q[j]!;
      out[row] = s0 + s1 + s2 + s3;
    }
    return out;
  }

  private removeRow(row: number): void {
    const last = this.faceIds.length - 1;
    if (row !== last) {
      this.matrix.copyWithin(row * this.dims, last * this.dims, (last + 1) * this.dims);
      this.faceIds[row] = this.faceIds[last]!;
      this.rowSubject[row] = this.rowSubject[last]!;
    }
    this.faceIds.pop();
    this.rowSubject.pop();
  }
}
