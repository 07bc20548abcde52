-- Rate limits: the token bucket of rate_limit_take, its cleanup, privileges; assert_member.
-- Time is simulated by moving a bucket's updated_at into the past (refill = elapsed x rate).
-- Concurrency (n parallel takes on one bucket) is covered end to end in test/e2e/ai-suggest.test.ts.
begin;
select plan(48);

-- Structure ------------------------------------------------------------------------------------
select has_table('private', 'rate_limit_buckets', 'private.rate_limit_buckets exists');
select columns_are('private', 'rate_limit_buckets',
  array['bucket', 'tokens', 'last_allowed', 'updated_at', 'full_at'], 'rate_limit_buckets columns');
select col_is_pk('private', 'rate_limit_buckets', 'bucket', 'a bucket is identified by its name');
select ok((select relrowsecurity from pg_class where oid = 'private.rate_limit_buckets'::regclass),
  'RLS is enabled on rate_limit_buckets');
select policies_are('private', 'rate_limit_buckets', array['No direct access for API roles'],
  'rate_limit_buckets is closed to the API roles by a restrictive policy');
select has_function('public', 'rate_limit_take', array['text', 'integer', 'double precision', 'integer'],
  'rate_limit_take(text, integer, double precision, integer) exists');
select function_returns('public', 'rate_limit_take', array['text', 'integer', 'double precision', 'integer'], 'jsonb',
  'rate_limit_take returns jsonb');
select has_function('public', 'assert_member', array['uuid', 'uuid'], 'assert_member(uuid, uuid) exists');
select isnt_definer('public', 'rate_limit_take', array['text', 'integer', 'double precision', 'integer'],
  'rate_limit_take is security invoker');
select is((select count(*)::int from cron.job where jobname = 'ai-rate-limit-cleanup'
           and command = 'select private.rate_limit_cleanup()'), 1,
  'pg_cron job ai-rate-limit-cleanup runs private.rate_limit_cleanup()');

-- Privileges -----------------------------------------------------------------------------------
select function_privs_are('public', 'rate_limit_take', array['text', 'integer', 'double precision', 'integer'],
  'anon', array[]::text[], 'anon cannot execute rate_limit_take');
select function_privs_are('public', 'rate_limit_take', array['text', 'integer', 'double precision', 'integer'],
  'authenticated', array[]::text[], 'authenticated cannot execute rate_limit_take');
select function_privs_are('public', 'rate_limit_take', array['text', 'integer', 'double precision', 'integer'],
  'service_role', array['EXECUTE'], 'service_role can execute rate_limit_take');
select function_privs_are('public', 'assert_member', array['uuid', 'uuid'],
  'authenticated', array[]::text[], 'authenticated cannot execute assert_member');
select function_privs_are('public', 'assert_member', array['uuid', 'uuid'],
  'service_role', array['EXECUTE'], 'service_role can execute assert_member');
select table_privs_are('private', 'rate_limit_buckets', 'authenticated', array[]::text[],
  'authenticated has no privilege on rate_limit_buckets');
select table_privs_are('private', 'rate_limit_buckets', 'anon', array[]::text[],
  'anon has no privilege on rate_limit_buckets');

select tests.create_supabase_user('rl_member') as member \gset
select tests.create_supabase_user('rl_stranger') as stranger \gset
\set company '''70000000-0000-4000-8000-000000000070'''
insert into public.company_members (company_id, user_id, role) values (:company, :'member', 'member');

select tests.authenticate_as('rl_member');
select throws_ok($$select public.rate_limit_take('pgtap:denied', 5, 1)$$, '42501', null,
  'a signed-in user cannot take tokens (the functions do it for them)');
reset role;
select tests.clear_authentication();
select throws_ok($$select public.assert_member(gen_random_uuid(), gen_random_uuid())$$, '42501', null,
  'anon cannot call assert_member');
reset role;

-- The bucket -----------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select is(public.rate_limit_take('pgtap:a', 3, 1) - 'retry_after_seconds',
  '{"allowed": true, "remaining": 2, "limit": 3}'::jsonb, 'a new bucket starts full: first take allowed, 2 left');
select is((public.rate_limit_take('pgtap:a', 3, 1) ->> 'remaining')::int, 1, 'second take: 1 left');
select is((public.rate_limit_take('pgtap:a', 3, 1) ->> 'remaining')::int, 0, 'third take: 0 left');
select is(public.rate_limit_take('pgtap:a', 3, 1) -> 'allowed', 'false'::jsonb, 'fourth take within the second is refused');
select ok((public.rate_limit_take('pgtap:a', 3, 1) ->> 'retry_after_seconds')::numeric between 0.001 and 1,
  'a refused take says how long until one token is back (at most 1/refill seconds)');
select ok((select tokens < 0.5 from private.rate_limit_buckets where bucket = 'pgtap:a'),
  'refused takes consume nothing (and never drive the bucket negative)');
select is((public.rate_limit_take('pgtap:a', 3, 1) ->> 'retry_after_seconds')::numeric > 0, true,
  'still refused while the bucket refills');

-- Two seconds pass at one token per second.
update private.rate_limit_buckets set updated_at = updated_at - interval '2 seconds' where bucket = 'pgtap:a';
select is(public.rate_limit_take('pgtap:a', 3, 1) -> 'allowed', 'true'::jsonb, 'refilled: allowed again');
select is(public.rate_limit_take('pgtap:a', 3, 1) -> 'allowed', 'true'::jsonb, 'two seconds bought two tokens');
select is(public.rate_limit_take('pgtap:a', 3, 1) -> 'allowed', 'false'::jsonb, 'but not a third');

-- An hour passes: the refill is capped at the capacity.
update private.rate_limit_buckets set updated_at = updated_at - interval '1 hour' where bucket = 'pgtap:a';
select is((public.rate_limit_take('pgtap:a', 3, 1) ->> 'remaining')::int, 2, 'refill never exceeds the capacity');

-- A clock that runs backwards (a take that read the time earlier, committed later) refills nothing.
update private.rate_limit_buckets set updated_at = updated_at + interval '1 hour' where bucket = 'pgtap:a';
select is((public.rate_limit_take('pgtap:a', 3, 1) ->> 'remaining')::int, 1, 'a bucket stamped in the future gets no refill');
-- clock_timestamp(), the clock rate_limit_take reads: now() is the transaction's start, seconds ago on a loaded machine.
update private.rate_limit_buckets set updated_at = clock_timestamp() where bucket = 'pgtap:a';

-- Cost, capacity changes.
select is((public.rate_limit_take('pgtap:a', 3, 1, 0) ->> 'remaining')::int, 1, 'p_cost 0 reads the bucket without taking');
select is((public.rate_limit_take('pgtap:b', 10, 1, 4) ->> 'remaining')::int, 6, 'a take may cost several tokens');
select is(public.rate_limit_take('pgtap:b', 10, 1, 7) -> 'allowed', 'false'::jsonb, 'a take costing more than is left is refused');
select is((public.rate_limit_take('pgtap:b', 3, 1) ->> 'remaining')::int, 2,
  'a lowered capacity applies at once (6 tokens capped to 3, minus 1)');

-- full_at and the cleanup.
select is((select full_at - updated_at from private.rate_limit_buckets where bucket = 'pgtap:b'), interval '1 second',
  'full_at = when the bucket is full again ((capacity - tokens) / refill after the last take)');
select is((public.rate_limit_take('pgtap:c', 3, 1) ->> 'allowed')::boolean, true, 'a third bucket, full then');
update private.rate_limit_buckets set updated_at = now() - interval '1 hour', full_at = now() - interval '1 hour'
where bucket in ('pgtap:a', 'pgtap:c');
-- (Other buckets of the database that are full again go too; this transaction rolls back.)
select cmp_ok(private.rate_limit_cleanup(), '>=', 2, 'rate_limit_cleanup deletes the buckets that are full again');
select is(array(select bucket from private.rate_limit_buckets where bucket like 'pgtap:%' order by bucket),
  array['pgtap:b'], 'and keeps those still refilling');

-- A tiny anonymous bucket, as ai-suggest keys one per client address.
select is(array(select (public.rate_limit_take('ai-suggest:ip:203.0.113.7', 2, 0.5) ->> 'allowed')::boolean
                from generate_series(1, 3)), array[true, true, false],
  'an address bucket of capacity 2 allows 2 requests, then refuses');
select ok((public.rate_limit_take('ai-suggest:ip:203.0.113.7', 2, 0.5) ->> 'retry_after_seconds')::numeric between 1 and 2,
  'at 0.5 token/s the wait for the next token is up to 2 seconds');

-- Argument checks.
select throws_ok($$select public.rate_limit_take('pgtap:x', 3, 1, 4)$$, '22023', null,
  'a cost above the capacity could never pass: 22023');
select throws_ok($$select public.rate_limit_take('pgtap:x', 0, 1)$$, '22023', null, 'capacity must be >= 1');
select throws_ok($$select public.rate_limit_take('pgtap:x', 3, 0)$$, '22023', null, 'refill must be positive');
select throws_ok($$select public.rate_limit_take('pgtap:x', 3, 'NaN')$$, '22023', null, 'refill must be a number');
select throws_ok($$select public.rate_limit_take(null, 3, 1)$$, '22023', null, 'a bucket name is required');

-- Membership ------------------------------------------------------------------------------------
select lives_ok(format('select public.assert_member(%L, %L)', :'member', :company),
  'assert_member passes for a member');
select throws_ok(format('select public.assert_member(%L, %L)', :'stranger', :company), '42501', null,
  'assert_member raises 42501 for a non-member');
reset role;

select * from finish();
rollback;
