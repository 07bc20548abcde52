import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSuite, type Suite } from './fixture.ts';

let s: Suite;
beforeAll(async () => {
  s = await startSuite('rest_fixture_embedding');
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('resource embedding', () => {
  it('embeds many-to-one as an object and one-to-many as an array', async () => {
    const books = await s.anon.from('books').select('title, author:authors!author_id(name)').order('id').limit(2);
    expect(books.data).toEqual([
      { title: 'A Wizard of Earthsea', author: { name: 'Ursula' } },
      { title: 'The Left Hand of Darkness', author: { name: 'Ursula' } },
    ]);
    const authors = await s.anon.from('authors').select('name, books!author_id(title)').order('id').order('id', {
      referencedTable: 'books',
    });
    expect(authors.data).toEqual([
      { name: 'Ursula', books: [{ title: 'A Wizard of Earthsea' }, { title: 'The Left Hand of Darkness' }] },
      { name: 'Terry', books: [{ title: 'Mort' }, { title: 'Small Gods' }] },
      { name: 'Nobody', books: [] },
    ]);
  });

  it('embeds one-to-one as an object and null when missing', async () => {
    const r = await s.anon.from('authors').select('name, author_profiles(bio)').order('id');
    expect(r.data).toEqual([
      { name: 'Ursula', author_profiles: { bio: 'Earthsea' } },
      { name: 'Terry', author_profiles: { bio: 'Discworld' } },
      { name: 'Nobody', author_profiles: null },
    ]);
  });

  it('embeds through a foreign key column name and nests embeds', async () => {
    const r = await s.anon.from('books').select('title, editor:editor_id(name, author_profiles(bio))').eq('id', 1)
      .single();
    expect(r.data).toEqual({
      title: 'A Wizard of Earthsea',
      editor: { name: 'Terry', author_profiles: { bio: 'Discworld' } },
    });
  });

  it('filters, orders and limits embedded rows, and !inner filters the parents', async () => {
    const r = await s.anon.from('authors').select('name, books!author_id(title, year)')
      .gt('books.year', 1968).order('year', { referencedTable: 'books', ascending: false }).limit(1, {
        referencedTable: 'books',
      }).order('id');
    expect(r.data).toEqual([
      { name: 'Ursula', books: [{ title: 'The Left Hand of Darkness', year: 1969 }] },
      { name: 'Terry', books: [{ title: 'Small Gods', year: 1992 }] },
      { name: 'Nobody', books: [] },
    ]);
    const inner = await s.anon.from('authors').select('name, books!author_id!inner(title)', { count: 'exact' }).eq(
      'books.title',
      'Mort',
    );
    expect(inner).toMatchObject({ count: 1, data: [{ name: 'Terry', books: [{ title: 'Mort' }] }] });
    const onlyFilter = await s.anon.from('authors').select('name, books!author_id!inner()').eq('books.year', 1992);
    expect(onlyFilter.data).toEqual([{ name: 'Terry' }]);
  });

  it('reports ambiguous and unknown relationships as PostgREST does', async () => {
    const amb = await s.anon.from('books').select('title, authors(name)');
    expect(amb.status).toBe(300);
    expect(amb.error).toMatchObject({
      code: 'PGRST201',
      message: "Could not embed because more than one relationship was found for 'books' and 'authors'",
      hint:
        "Try changing 'authors' to one of the following: 'authors!books_author_id_fkey', 'authors!books_editor_id_fkey'. Find the desired relationship in the 'details' key.",
    });
    expect(amb.error?.details).toEqual(expect.arrayContaining([{
      cardinality: 'many-to-one',
      embedding: 'books with authors',
      relationship: 'books_author_id_fkey using books(author_id) and authors(id)',
    }]));
    const none = await s.anon.from('books').select('title, author(name)');
    expect(none.status).toBe(400);
    expect(none.error).toEqual({
      code: 'PGRST200',
      details:
        "Searched for a foreign key relationship between 'books' and 'author' in the schema 'public', but no matches were found.",
      hint: "Perhaps you meant 'authors' instead of 'author'.",
      message: "Could not find a relationship between 'books' and 'author' in the schema cache",
    });
    const stray = await s.anon.from('books').select('title').eq('authors.name', 'x');
    expect(stray.status).toBe(400);
    expect(stray.error?.code).toBe('PGRST108');
  });

  it('applies RLS inside embedded resources and embeds in write representations', async () => {
    const note = await s.alice.from('notes').insert({ title: 'with comments' }).select('id').single();
    const noteId = (note.data as { id: number }).id;
    await s.alice.from('note_comments').insert([{ note_id: noteId, body: 'mine' }]);
    await s.service.from('note_comments').insert({
      note_id: noteId,
      body: 'someone else',
      owner_id: '22222222-2222-4222-8222-222222222222',
    });
    const r = await s.alice.from('notes').select('title, note_comments(body)').eq('id', noteId).single();
    expect(r.data).toEqual({ title: 'with comments', note_comments: [{ body: 'mine' }] });
    const created = await s.alice.from('note_comments').insert({ note_id: noteId, body: 'second' }).select(
      'body, notes(title)',
    ).single();
    expect(created.data).toEqual({ body: 'second', notes: { title: 'with comments' } });
  });
});
