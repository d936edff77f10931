-- Posts of other platforms (Reddit, Bluesky, Mastodon) in the same tables.
-- An X tweet keeps its id and gets platform 'x'. Another platform's post is
-- keyed by its platform-aware id (post_id, e.g. 'reddit:t3_abc'); its bigint id
-- (and author_id, analyses.tweet_id, duplicates.tweet_id) is a negative hash of
-- that id, so X ids (positive) never collide with it. link: its web address.
ALTER TABLE tweets
    ADD COLUMN platform text NOT NULL DEFAULT 'x',
    ADD COLUMN post_id  text,
    ADD COLUMN link     text;
CREATE UNIQUE INDEX tweets_platform_post_idx ON tweets (platform, post_id)
    WHERE platform <> 'x';
