-- An unscheduled pod's node_name is NULL, never '' (`spec.nodeName: ""` is unscheduled too), so that
-- `fieldSelector=spec.nodeName=` (the scheduler's pending pods) is `node_name IS NULL`, which the
-- (resource, node_name, namespace, name) index finds without reading every pod.
DROP TRIGGER `changes_apply_put`;--> statement-breakpoint
CREATE TRIGGER `changes_apply_put` AFTER INSERT ON `changes` WHEN NEW.`type` != 'DELETED'
BEGIN
  INSERT INTO `objects` (`resource`, `namespace`, `name`, `uid`, `rev`, `node_name`, `phase`, `labels`, `object`)
  VALUES (NEW.`resource`, NEW.`namespace`, NEW.`name`, json_extract(NEW.`object`, '$.metadata.uid'), NEW.`rev`,
          nullif(json_extract(NEW.`object`, '$.spec.nodeName'), ''), json_extract(NEW.`object`, '$.status.phase'),
          json_extract(NEW.`object`, '$.metadata.labels'), NEW.`object`)
  ON CONFLICT (`resource`, `namespace`, `name`) DO UPDATE SET
    `uid` = excluded.`uid`, `rev` = excluded.`rev`, `node_name` = excluded.`node_name`,
    `phase` = excluded.`phase`, `labels` = excluded.`labels`, `object` = excluded.`object`;
  DELETE FROM `owner_refs` WHERE `resource` = NEW.`resource` AND `namespace` = NEW.`namespace` AND `name` = NEW.`name`;
  INSERT OR IGNORE INTO `owner_refs` (`owner_uid`, `resource`, `namespace`, `name`, `controller`)
    SELECT json_extract(value, '$.uid'), NEW.`resource`, NEW.`namespace`, NEW.`name`,
           coalesce(json_extract(value, '$.controller'), 0)
    FROM json_each(NEW.`object`, '$.metadata.ownerReferences')
    WHERE json_extract(value, '$.uid') IS NOT NULL;
END;
--> statement-breakpoint
UPDATE `objects` SET `node_name` = NULL WHERE `node_name` = '';
