DROP TRIGGER users_catalog_changed ON users;
DROP TRIGGER build_assets_catalog_changed ON build_assets;
DROP TRIGGER releases_catalog_changed ON releases;
DROP TRIGGER games_catalog_changed ON games;
DROP FUNCTION catalog_changed();
