DROP TRIGGER developer_profiles_catalog_changed ON developer_profiles;
ALTER TABLE developer_profiles DROP COLUMN studio_name;
DROP TABLE media_uploads;
DROP TABLE game_media;
