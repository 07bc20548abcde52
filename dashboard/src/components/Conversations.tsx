// Conversation statistics per context type: how many answers came from the cache.
import type { DashboardData } from '../api.ts';
import { count, percent } from '../format.ts';

export function Conversations({ conversations: c }: { conversations: DashboardData['conversations'] }) {
  return (
    <section aria-labelledby='conv-title' className='panel'>
      <h2 id='conv-title'>Conversations</h2>
      <p>{count(c.conversations)} conversations, {count(c.messages)} messages.</p>
      {c.by_context.length === 0 ? <p className='note'>No conversations yet.</p> : (
        <table>
          <thead>
            <tr>
              <th>Context</th>
              <th>Conversations</th>
              <th>Messages</th>
              <th>Answers</th>
              <th>From cache</th>
              <th>Cached share</th>
            </tr>
          </thead>
          <tbody>
            {c.by_context.map((r) => (
              <tr key={r.context_type}>
                <td>{r.context_type}</td>
                <td>{count(r.conversations)}</td>
                <td>{count(r.messages)}</td>
                <td>{count(r.assistant_messages)}</td>
                <td>{count(r.cached_answers)}</td>
                <td>{percent(r.cached_share)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
