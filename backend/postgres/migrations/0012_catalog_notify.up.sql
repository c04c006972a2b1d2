-- Every committed change to what the catalog shows (games, their releases and builds, a
-- developer's display name) is announced on satchel_catalog (postgres.CatalogChannel), whatever
-- made it: each server instance drops its catalog cache when it hears of one. The payload is the
-- transaction's id, so a transaction sends one notification however many rows and tables it
-- changes (PostgreSQL folds identical notifications of a transaction into one).
CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('satchel_catalog', txid_current()::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER games_catalog_changed AFTER INSERT OR UPDATE OR DELETE ON games
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER releases_catalog_changed AFTER INSERT OR UPDATE OR DELETE ON releases
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER build_assets_catalog_changed AFTER INSERT OR UPDATE OR DELETE ON build_assets
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER users_catalog_changed AFTER UPDATE OF display_name ON users
    FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name) EXECUTE FUNCTION catalog_changed();
