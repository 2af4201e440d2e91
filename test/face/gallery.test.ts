import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { FaceGallery, OwnerIndex } from '../../src/db/face-gallery.js';
import { l2Normalise } from '../../src/tasks/face/embed.js';
import { tempDir } from '../kit/onnx.js';

/** A deterministic unit vector per seed; seeds far apart are nearly orthogonal in 512-d. */
function vec(seed: number, noise = 0, noiseSeed = 0): Float32Array {
  const v = new Float32Array(512);
  for (let i = 0; i < 512; i++) {
    v[i] = Math.sin((i + 1) * (seed + 1) * 1.618) + noise * Math.cos((i + 3) * (noiseSeed + 7) * 2.718);
  }
  return l2Normalise(v);
}

function gallery(): FaceGallery {
  return new FaceGallery(openDatabase(':memory:'));
}

describe('face gallery', () => {
  test('recognises the enrolled subject first, with its best face', () => {
    const g = gallery();
    const alice = g.createSubject('o1', { name: 'Alice' });
    const bob = g.createSubject('o1', { name: 'Bob' });
    g.addFace('o1', alice.id, { embedding: vec(1), model: 'face-embed' });
    const aliceFace = g.addFace('o1', alice.id, { embedding: vec(1, 0.2, 1), model: 'face-embed' });
    g.addFace('o1', bob.id, { embedding: vec(2), model: 'face-embed' });
    const [first, second] = g.search('o1', vec(1, 0.2, 1), 5);
    assert.equal(first?.subjectId, alice.id);
    assert.equal(first?.name, 'Alice');
    assert.equal(first?.faceId, aliceFace?.id);
    assert.ok(Math.abs(first!.similarity - 1) < 1e-5);
    assert.equal(second?.subjectId, bob.id);
    assert.ok(second!.similarity < first!.similarity);
  });

  test('keeps only the most recently searched owners\' indexes in memory within the cache budget', () => {
    const db = openDatabase(':memory:');
    // 512 floats × 4 B = 2 KiB a face, so 1 MB holds 512 faces: room for one owner of 300, not two
    const g = new FaceGallery(db, { cacheMB: 1 });
    const faceOf: Record<string, string> = {};
    for (const owner of ['a', 'b']) {
      const subject = g.createSubject(owner, { name: owner });
      for (let i = 0; i < 300; i++) {
        const face = g.addFace(owner, subject.id, { embedding: vec(i === 0 ? 1 : 100 + i), model: 'face-embed' });
        if (i === 0) faceOf[owner] = face!.id;
      }
    }
    assert.equal(g.search('a', vec(1), 1)[0]?.faceId, faceOf.a);
    assert.equal(g.search('b', vec(1), 1)[0]?.faceId, faceOf.b); // loads b's index, which drops a's
    // Changed behind the gallery's back: a cached index still sees the face, one read afresh does not.
    db.prepare('DELETE FROM face_embeddings WHERE id IN (?, ?)').run(faceOf.a, faceOf.b);
    assert.equal(g.search('b', vec(1), 1)[0]?.faceId, faceOf.b, "b's index is the one kept in memory");
    const [best] = g.search('a', vec(1), 1);
    assert.ok(best && best.faceId !== faceOf.a, "a's index was dropped, so it was reloaded without the deleted face");
  });

  test("keeps owners apart: another owner's subjects are neither listed, found nor changeable", () => {
    const g = gallery();
    const mine = g.createSubject('owner-a', { name: 'Mine' });
    g.addFace('owner-a', mine.id, { embedding: vec(3), model: 'face-embed' });
    assert.deepEqual(g.search('owner-b', vec(3), 3), []);
    assert.equal(g.listSubjects('owner-b', { limit: 10, offset: 0 }).total, 0);
    assert.equal(g.getSubject('owner-b', mine.id), undefined);
    assert.equal(g.addFace('owner-b', mine.id, { embedding: vec(3), model: 'face-embed' }), undefined);
    assert.equal(g.deleteSubject('owner-b', mine.id), false);
    assert.equal(g.search('owner-a', vec(3), 3)[0]?.subjectId, mine.id);
  });

  test('deleting a face or a subject removes it from search at once', () => {
    const g = gallery();
    const s = g.createSubject('o', { name: 'S', metadata: { team: 'red' } });
    const t = g.createSubject('o', { name: 'T' });
    const f1 = g.addFace('o', s.id, { embedding: vec(5), model: 'face-embed' })!;
    g.addFace('o', t.id, { embedding: vec(6), model: 'face-embed' });
    assert.equal(g.indexedFaces('o'), 2);
    assert.equal(g.deleteFace('o', s.id, f1.id), true);
    assert.notEqual(g.search('o', vec(5), 1)[0]?.subjectId, s.id);
    assert.equal(g.deleteSubject('o', t.id), true);
    assert.deepEqual(g.search('o', vec(6), 3), []);
    assert.deepEqual(g.getSubject('o', s.id)?.metadata, { team: 'red' });
  });

  test('a fresh gallery on the same database loads the stored embeddings', () => {
    const file = path.join(tempDir(), 'gallery.db');
    const first = new FaceGallery(openDatabase(file));
    const s = first.createSubject('o', { name: 'Persisted' });
    first.addFace('o', s.id, { embedding: vec(9), model: 'face-embed', box: { x1: 1, y1: 2, x2: 3, y2: 4 }, score: 0.9 });
    const second = new FaceGallery(openDatabase(file));
    assert.equal(second.search('o', vec(9), 1)[0]?.subjectId, s.id);
    assert.deepEqual(second.getSubject('o', s.id)?.faces[0]?.box, { x1: 1, y1: 2, x2: 3, y2: 4 });
    assert.equal(second.getSubject('o', s.id)?.faceCount, 1);
  });

  test('lists subjects in creation order, a page at a time, with face counts', () => {
    let clock = 1000;
    const g = new FaceGallery(openDatabase(':memory:'), { now: () => (clock += 1) });
    const ids = ['a', 'b', 'c'].map((name) => g.createSubject('o', { name }).id);
    g.addFace('o', ids[1]!, { embedding: vec(1), model: 'face-embed' });
    const page = g.listSubjects('o', { limit: 2, offset: 1 });
    assert.equal(page.total, 3);
    assert.deepEqual(page.subjects.map((s) => [s.name, s.faceCount]), [['b', 1], ['c', 0]]);
  });

  test('refuses a query embedding of the wrong length', () => {
    assert.throws(() => gallery().search('o', new Float32Array(128), 1), /512-d/);
  });
});

describe('in-memory owner index', () => {
  test('grows past its capacity and keeps rows dense when one is removed', () => {
    const index = new OwnerIndex(512, 2);
    for (let i = 0; i < 5; i++) index.add(`f${i}`, `s${i}`, vec(i));
    index.removeFace('f1');
    assert.equal(index.size, 4);
    assert.equal(index.scan(vec(4)).length, 4);
    const top = index.topSubjects(vec(4), 10);
    assert.equal(top[0]?.subjectId, 's4');
    assert.ok(Math.abs(top[0]!.similarity - 1) < 1e-5);
    assert.deepEqual(top.map((m) => m.subjectId).sort(), ['s0', 's2', 's3', 's4']);
  });

  test('ranks subjects by their best face, k at most, in descending order', () => {
    const index = new OwnerIndex(512);
    for (let s = 0; s < 20; s++) {
      index.add(`a${s}`, `s${s}`, vec(s));
      index.add(`b${s}`, `s${s}`, vec(s, 0.5, s));
    }
    const query = vec(7, 0.5, 7);
    const top = index.topSubjects(query, 5);
    assert.equal(top.length, 5);
    assert.deepEqual(top[0], { subjectId: 's7', faceId: 'b7', similarity: top[0]!.similarity });
    const scores = index.scan(query);
    const bestPerSubject = Array.from({ length: 20 }, (_, s) => Math.max(scores[2 * s]!, scores[2 * s + 1]!)).sort((a, b) => b - a);
    assert.deepEqual(top.map((m) => m.similarity), bestPerSubject.slice(0, 5));
  });

  test('removing a subject drops all its faces', () => {
    const index = new OwnerIndex(512);
    index.add('f1', 'gone', vec(1));
    index.add('f2', 'kept', vec(2));
    index.add('f3', 'gone', vec(3));
    index.removeSubject('gone');
    assert.equal(index.size, 1);
    assert.deepEqual(index.topSubjects(vec(1), 3).map((m) => m.subjectId), ['kept']);
  });
});
