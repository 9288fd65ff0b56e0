import { useEffect, useState } from 'react';
import { QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setUnauthorizedHandler, type Merchant } from './api.ts';
import { href, useRoute } from './router.ts';
import { SignIn } from './screens/SignIn.tsx';
import { PoolsScreen } from './screens/Pools.tsx';
import { PoolScreen } from './screens/Pool.tsx';
import { SegmentationScreen } from './screens/Segmentation.tsx';
import { ContactsScreen, ContactScreen } from './screens/Contacts.tsx';
import { AuthoringScreen, MessageEditor } from './screens/Authoring.tsx';
import { ConductorScreen } from './screens/conductor/List.tsx';
import { ConversationEditor } from './screens/conductor/Editor.tsx';
import { OutboxScreen } from './screens/Outbox.tsx';
import { ContactImportScreen } from './screens/contacts/Import.tsx';
import { SuppressionsScreen } from './screens/Suppressions.tsx';
import { RedemptionsScreen } from './screens/redemptions/Redemptions.tsx';
import { IntegrationsScreen } from './screens/integrations/Integrations.tsx';
import { Loading, shortLabel } from './ui.tsx';
import { SetPasswordScreen } from './screens/team/SetPassword.tsx';
import { UsersScreen } from './screens/team/Users.tsx';
import { TokensScreen } from './screens/team/Tokens.tsx';
import { AuditScreen } from './screens/team/Audit.tsx';
import { roleCan, type Permission, type Role } from '../../src/modules/accounts/permissions.ts';

/** Sections, each shown to the roles that may read it (the server's permission table decides). */
const SECTIONS: { path: string; label: string; needs?: Permission }[] = [
  { path: 'pools', label: 'Coupon Manager' },
  { path: 'redemptions', label: 'Redemptions' },
  { path: 'segmentation', label: 'Segmentation' },
  { path: 'contacts', label: 'Contacts' },
  { path: 'messages', label: 'Authoring' },
  { path: 'conversations', label: 'Conductor' },
  { path: 'outbox', label: 'Outbox' },
];
/**
 * The account's settings, on a second, smaller row under the header (the header stays one line
 * at 1280 px), each shown to the roles that may read it.
 */
const ADMIN_SECTIONS: { path: string; label: string; needs?: Permission }[] = [
  { path: 'integrations', label: 'Integrations' },
  { path: 'users', label: 'Users', needs: 'users:read' },
  { path: 'tokens', label: 'Tokens', needs: 'tokens:read' },
  { path: 'audit', label: 'Audit', needs: 'audit:read' },
];
/** Screens reached from a section's page. */
const MORE = ['suppressions'];

const MERCHANT_KEY = 'couponflow.merchant';
function remembered(): string | undefined {
  try {
    return localStorage.getItem(MERCHANT_KEY) ?? undefined;
  } catch {
    return undefined; // storage refused (private mode): the first merchant, as before
  }
}
function remember(id: string) {
  try {
    localStorage.setItem(MERCHANT_KEY, id);
  } catch {
    // not kept: the choice holds for this visit
  }
}

const sections = (role: Role) => SECTIONS.filter((s) => !s.needs || roleCan(role, s.needs));
const adminSections = (role: Role) => ADMIN_SECTIONS.filter((s) => !s.needs || roleCan(role, s.needs));

/** Drops every cached answer but the session's (whose observer must stay attached). */
const forgetData = (queryClient: QueryClient) => queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });

export function App() {
  const queryClient = useQueryClient();
  const route = useRoute();
  const session = useQuery({ queryKey: ['session'], queryFn: api.session, retry: false, staleTime: Infinity });
  useEffect(() => {
    setUnauthorizedHandler(() => queryClient.setQueryData(['session'], null));
  }, [queryClient]);
  // The one-time link's page needs no session.
  if (route[0] === 'set-password' && route[1]) return <SetPasswordScreen token={route[1]} />;

  if (session.isPending) return <Loading />;
  const signedOut = session.data === null || (session.error instanceof ApiError && session.error.status === 401);
  if (signedOut || !session.data) {
    return (
      <SignIn
        onSignedIn={(s) => {
          forgetData(queryClient);
          queryClient.setQueryData(['session'], s);
        }}
        failed={signedOut ? undefined : session.error}
      />
    );
  }
  return <Shell accountName={session.data.accountName} who={session.data.actor.name} role={session.data.role} />;
}

function Shell({ accountName, who, role }: { accountName: string; who: string; role: Role }) {
  const queryClient = useQueryClient();
  const route = useRoute();
  const merchants = useQuery({ queryKey: ['merchants'], queryFn: api.merchants });
  // The switcher remembers its choice across visits; a pool opened by URL switches to its merchant.
  const [merchantId, setMerchantIdState] = useState<string | undefined>(() => remembered());
  const setMerchantId = (id: string) => {
    setMerchantIdState(id);
    remember(id);
  };
  const merchant: Merchant | undefined = merchants.data?.find((m) => m.id === merchantId) ?? merchants.data?.[0];
  const signOut = useMutation({
    mutationFn: api.signOut,
    onSettled: () => {
      forgetData(queryClient);
      queryClient.setQueryData(['session'], null);
      window.location.hash = '';
    },
  });
  const [section = 'pools', id] = route;

  return (
    <div className="shell">
      <header className="top">
        <a className="brand" href={href('pools')}>
          Couponflow
        </a>
        <nav aria-label="Sections">
          {sections(role).map((s) => (
            <a key={s.path} href={href(s.path)} aria-current={section === s.path ? 'page' : undefined}>
              {s.label}
            </a>
          ))}
        </nav>
        <div className="top-right">
          <label className="merchant-switch">
            <span>Merchant</span>
            <select
              aria-label="Merchant"
              title={merchant ? `${merchant.name} (${merchant.domain})` : undefined}
              value={merchant?.id ?? ''}
              onChange={(e) => {
                setMerchantId(e.target.value);
                // A pool belongs to one merchant: another merchant's pools are on the list.
                if (section === 'pools' && id) window.location.hash = href('pools');
              }}
              disabled={!merchants.data?.length}
            >
              {merchants.data?.map((m) => (
                <option key={m.id} value={m.id} title={`${m.name} (${m.domain})`}>
                  {shortLabel(m.name, 26)}
                </option>
              ))}
            </select>
          </label>
          <a href="/docs" target="_blank" rel="noopener" title="The REST API reference (opens in a new tab)">
            API docs
          </a>
          <span className="muted account" title={`Signed in as ${who} (${role})`}>
            {accountName} · {who}
          </span>
          <button type="button" className="ghost" onClick={() => signOut.mutate()}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="subnav" aria-label="Settings">
        {adminSections(role).map((s) => (
          <a key={s.path} href={href(s.path)} aria-current={section === s.path ? 'page' : undefined}>
            {s.label}
          </a>
        ))}
      </nav>
      <main>
        {section === 'pools' && !id ? <PoolsScreen merchant={merchant} merchantsLoading={merchants.isPending} /> : null}
        {section === 'pools' && id ? (
          <PoolScreen poolId={id} merchants={merchants.data ?? []} onMerchant={(m) => m !== merchant?.id && setMerchantId(m)} />
        ) : null}
        {section === 'redemptions' ? <RedemptionsScreen merchant={merchant} /> : null}
        {section === 'segmentation' ? <SegmentationScreen /> : null}
        {section === 'contacts' && !id ? <ContactsScreen /> : null}
        {section === 'contacts' && id === 'import' ? <ContactImportScreen /> : null}
        {section === 'contacts' && id && id !== 'import' ? <ContactScreen contactId={id} /> : null}
        {section === 'suppressions' ? <SuppressionsScreen /> : null}
        {section === 'messages' && !id ? <AuthoringScreen /> : null}
        {section === 'messages' && id ? <MessageEditor messageId={id === 'new' ? undefined : id} /> : null}
        {section === 'conversations' && !id ? <ConductorScreen /> : null}
        {section === 'conversations' && id ? (
          <ConversationEditor conversationId={id === 'new' ? undefined : id} merchants={merchants.data ?? []} />
        ) : null}
        {section === 'outbox' ? <OutboxScreen mailId={id} /> : null}
        {section === 'integrations' ? <IntegrationsScreen merchant={merchant} /> : null}
        {section === 'users' ? <UsersScreen merchants={merchants.data ?? []} /> : null}
        {section === 'tokens' ? <TokensScreen /> : null}
        {section === 'audit' ? <AuditScreen /> : null}
        {![...sections(role), ...adminSections(role)].some((s) => s.path === section) && !MORE.includes(section) ? (
          <p>Nothing here. Pick a section above.</p>
        ) : null}
      </main>
    </div>
  );
}
