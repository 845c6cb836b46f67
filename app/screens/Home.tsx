/** Home: a welcome by display name, the editor badge, the favourite genre and the total plays. */
import { isEditor, type Session } from "../session.ts";
import { useLibrary } from "../widgets/hooks.ts";
import { NotYet } from "../widgets/status.tsx";
import { displayNameIn, text } from "../widgets/text.ts";

export function Home({ session }: { session: Session }) {
  const library = useLibrary(session.db);
  const profile = library?.profile?.data;
  const editor = isEditor(session);
  return (
    <>
      {!profile && <NotYet session={session} what="Loading your profile…" />}
      {profile && (
        <div class="hero">
          <h2>Welcome, {displayNameIn(profile)}</h2>
          {editor && (
            <span class="badge" title="You may edit featured playlists">
              EDITOR
            </span>
          )}
          <p>
            Favourite genre: <strong>{text(profile, "favGenre") || "not chosen yet"}</strong>
          </p>
          <p>
            Total plays: <strong data-testid="total-plays">{library?.totalPlays ?? "…"}</strong>
          </p>
        </div>
      )}
    </>
  );
}
