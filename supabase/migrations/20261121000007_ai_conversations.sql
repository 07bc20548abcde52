/*
 * AI conversations and their messages.
 *
 * A user sees and changes only their own conversations, inside companies they belong to
 * (membership through private.is_company_member()); messages follow their conversation.
 * Company owners/admins do NOT read other users' conversations: they get numbers only,
 * through get_conversation_stats() (next migration).
 *
 * What end users may write (column privileges + policies):
 * - ai_conversations: insert (id, company_id, user_id, title, context_type, is_archived)
 *   with user_id = auth.uid() (the default) in a company they belong to; update only
 *   title, context_type, is_archived (a conversation cannot move to another user or
 *   company; counters and timestamps are maintained by triggers); delete their own.
 * - ai_messages: insert (id, conversation_id, role, content, metadata, tokens_used, model,
 *   from_cache) into their own conversations; delete their own; no update (history is
 *   append-only). Any role is accepted, because apps persist assistant turns from the
 *   client too; from_cache/tokens_used written by a client are therefore self-reported and
 *   only ever count in that user's own statistics and the company's aggregates.
 *   created_at and seq are server-assigned.
 * The service role (Edge Functions) writes anything.
 *
 * Triggers
 * - trg_update_conversation_message_count (after insert/delete on ai_messages):
 *   message_count = message_count +/- 1 in one UPDATE (exact under concurrent inserts: each
 *   update re-reads the latest row version), last_message_at maintained; the UPDATE also
 *   fires the updated_at trigger below.
 * - trg_update_conversation_updated_at (before update on ai_conversations): updated_at = now().
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table public.ai_conversations (
  id              uuid primary key default gen_random_uuid(),
  company_id      uuid not null,
  user_id         uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title           text
                  constraint ai_conversations_title_check check (char_length(title) <= 500),
  context_type    text not null default 'general'
                  constraint ai_conversations_context_type_check
                  check (context_type in ('general', 'accounting', 'banking', 'inventory')),
  message_count   integer not null default 0
                  constraint ai_conversations_message_count_check check (message_count >= 0),
  is_archived     boolean not null default false,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  last_message_at timestamptz
);

comment on table public.ai_conversations is
  'AI conversations of a user inside a company. message_count, updated_at and last_message_at are maintained by triggers.';

create table public.ai_messages (
  id              uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.ai_conversations (id) on delete cascade,
  seq             bigint generated always as identity,
  role            text not null
                  constraint ai_messages_role_check check (role in ('user', 'assistant', 'system', 'tool')),
  content         text not null
                  constraint ai_messages_content_check check (octet_length(content) <= 1048576),
  metadata        jsonb not null default '{}'::jsonb
                  constraint ai_messages_metadata_check check (jsonb_typeof(metadata) = 'object'),
  tokens_used     integer
                  constraint ai_messages_tokens_used_check check (tokens_used >= 0),
  model           text
                  constraint ai_messages_model_check check (char_length(model) <= 200),
  from_cache      boolean not null default false,
  created_at      timestamptz not null default now()
);

comment on table public.ai_messages is
  'Messages of a conversation. Order: (created_at, seq); seq is a server-assigned insertion order.';
comment on column public.ai_messages.seq is 'Insertion order, stable even within one timestamp.';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- Both end with a unique column, so they are declared unique.
-- "My conversations in this company, newest first" (RLS filters on user_id; covers the FK).
create unique index ai_conversations_user_id_company_id_created_at_id_idx
  on public.ai_conversations (user_id, company_id, created_at, id);
-- Company-wide statistics.
create unique index ai_conversations_company_id_created_at_id_idx
  on public.ai_conversations (company_id, created_at, id);
-- A conversation's messages in order (covers the FK).
create unique index ai_messages_conversation_id_created_at_seq_idx
  on public.ai_messages (conversation_id, created_at, seq);

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.update_conversation_message_count() -> trigger (after insert or delete on ai_messages)
 * Adds or subtracts one to the conversation's message_count in a single UPDATE, and keeps
 * last_message_at (latest created_at; recomputed on delete). SECURITY DEFINER: end users
 * have no UPDATE privilege on these columns.
 */
create or replace function private.update_conversation_message_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    update public.ai_conversations c
    set message_count = c.message_count + 1,
        last_message_at = greatest(c.last_message_at, new.created_at)
    where c.id = new.conversation_id;
  elsif tg_op = 'DELETE' then
    update public.ai_conversations c
    set message_count = greatest(c.message_count - 1, 0),
        last_message_at = (
          select max(m.created_at) from public.ai_messages m where m.conversation_id = old.conversation_id
        )
    where c.id = old.conversation_id;
  end if;
  return null;
end;
$$;

/*
 * private.set_conversation_updated_at() -> trigger (before update on ai_conversations)
 * Sets updated_at = now() on every update (including the message-count updates above).
 */
create or replace function private.set_conversation_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------
create trigger trg_update_conversation_message_count
  after insert or delete on public.ai_messages
  for each row
  execute function private.update_conversation_message_count();

create trigger trg_update_conversation_updated_at
  before update on public.ai_conversations
  for each row
  execute function private.set_conversation_updated_at();

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table public.ai_conversations enable row level security;
alter table public.ai_messages enable row level security;

create policy "Users can read their own conversations in their companies"
  on public.ai_conversations
  for select
  to authenticated
  using (user_id = (select auth.uid()) and private.is_company_member(company_id));

create policy "Users can create their own conversations in their companies"
  on public.ai_conversations
  for insert
  to authenticated
  with check (user_id = (select auth.uid()) and private.is_company_member(company_id));

create policy "Users can update their own conversations in their companies"
  on public.ai_conversations
  for update
  to authenticated
  using (user_id = (select auth.uid()) and private.is_company_member(company_id))
  with check (user_id = (select auth.uid()) and private.is_company_member(company_id));

create policy "Users can delete their own conversations in their companies"
  on public.ai_conversations
  for delete
  to authenticated
  using (user_id = (select auth.uid()) and private.is_company_member(company_id));

-- Messages follow their conversation: the subquery is itself filtered by the
-- ai_conversations policies (own conversation, company membership).
create policy "Users can read messages of their own conversations"
  on public.ai_messages
  for select
  to authenticated
  using (conversation_id in (
    select c.id from public.ai_conversations c where c.user_id = (select auth.uid())
  ));

create policy "Users can add messages to their own conversations"
  on public.ai_messages
  for insert
  to authenticated
  with check (conversation_id in (
    select c.id from public.ai_conversations c where c.user_id = (select auth.uid())
  ));

create policy "Users can delete messages of their own conversations"
  on public.ai_messages
  for delete
  to authenticated
  using (conversation_id in (
    select c.id from public.ai_conversations c where c.user_id = (select auth.uid())
  ));

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table public.ai_conversations from public, anon, authenticated;
grant select, delete on table public.ai_conversations to authenticated;
grant insert (id, company_id, user_id, title, context_type, is_archived)
  on table public.ai_conversations to authenticated;
grant update (title, context_type, is_archived) on table public.ai_conversations to authenticated;
grant all on table public.ai_conversations to service_role;

revoke all on table public.ai_messages from public, anon, authenticated;
grant select, delete on table public.ai_messages to authenticated;
grant insert (id, conversation_id, role, content, metadata, tokens_used, model, from_cache)
  on table public.ai_messages to authenticated;
grant all on table public.ai_messages to service_role;

revoke all on all sequences in schema public from public, anon, authenticated;

revoke all on function private.update_conversation_message_count() from public, anon, authenticated, service_role;
revoke all on function private.set_conversation_updated_at() from public, anon, authenticated, service_role;
