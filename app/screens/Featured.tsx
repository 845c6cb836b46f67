/**
 * Featured: the playlists editors choose, asked of the API (not kept on the device); an editor
 * creates them, and renames or deletes those they created.
 */
import { useState } from "preact/hooks";
import { type FeaturedPlaylist, idempotencyKey, ok } from "../api.ts";
import { isEditor, type Session } from "../session.ts";
import { Card, DeleteButton, submitted, TextField } from "../widgets/controls.tsx";
import { useLoadedScreen } from "../widgets/hooks.ts";
import { Alert, Loading } from "../widgets/status.tsx";

export function Featured({ session }: { session: Session }) {
  const [playlists, setPlaylists] = useState<FeaturedPlaylist[]>();
  const [names, setNames] = useState<Record<string, string>>({});
  const [newName, setNewName] = useState("");
  const editor = isEditor(session);
  // The API lets an editor change only the featured playlists they created (else 403
  // not_featured_creator): the others' are shown without edit controls.
  const mine = (playlist: FeaturedPlaylist) => editor && playlist.createdBy === session.userId;
  const { message, change } = useLoadedScreen(session, async (api) => {
    const page = ok(await api.GET("/playlists/featured", { params: { query: { limit: 100 } } }));
    return () => {
      setPlaylists(page.playlists);
      setNames(Object.fromEntries(page.playlists.map((p) => [p.playlistId, p.name])));
    };
  });
  const nameOf = ({ playlistId, name }: FeaturedPlaylist) => names[playlistId] ?? name;
  const create = change(async (api) => {
    const body = { name: newName, songIds: [] };
    ok(await api.POST("/playlists/featured", { body, params: { header: idempotencyKey() } }));
    setNewName("");
  });
  const rename = (playlist: FeaturedPlaylist) =>
    change(async (api) => {
      const params = { path: { playlistId: playlist.playlistId } };
      ok(
        await api.PATCH("/playlists/featured/{playlistId}", {
          params,
          body: { name: nameOf(playlist) },
        }),
      );
    });
  const remove = ({ playlistId }: FeaturedPlaylist) =>
    change(async (api) => {
      const params = { path: { playlistId } };
      ok(await api.DELETE("/playlists/featured/{playlistId}", { params }));
    });
  return (
    <>
      <Alert message={message} />
      {!editor && <p class="muted">Editors choose these; play enough and you may become one.</p>}
      {playlists === undefined && !message && <Loading what="Loading featured playlists…" />}
      <ul class="items">
        {playlists?.map((playlist) => (
          <li key={playlist.playlistId}>
            {mine(playlist) ? (
              <form class="inline" onSubmit={submitted(rename(playlist))}>
                <input
                  aria-label={`Name of ${playlist.name}`}
                  value={nameOf(playlist)}
                  onInput={(e) => {
                    const value = e.currentTarget.value;
                    setNames((all) => ({ ...all, [playlist.playlistId]: value }));
                  }}
                />
                <button type="submit" aria-label={`Rename ${playlist.name}`}>
                  Rename
                </button>
                <DeleteButton
                  label={`Delete featured ${playlist.name}`}
                  onDelete={remove(playlist)}
                />
              </form>
            ) : (
              <span class="featured-name">{playlist.name}</span>
            )}
          </li>
        ))}
      </ul>
      {playlists?.length === 0 && <p class="muted">No featured playlists yet.</p>}
      {editor && (
        <Card title="New featured playlist">
          <form onSubmit={submitted(create)}>
            <TextField
              id="featuredName"
              label="Featured playlist name"
              value={newName}
              onChange={setNewName}
            />
            <button type="submit">Create featured playlist</button>
          </form>
        </Card>
      )}
    </>
  );
}
