-- Up Migration

-- How a model was trained (issue 19, services/distiller/distiller/recipe.py), as columns so that
-- models can be compared and filtered without reading the recipe JSON:
--   teacher_mode     'ema' (the teacher is the EMA of the student, targets recomputed per batch) or
--                    'fixed' (targets made once: a teacher checkpoint, the stage-1 model or the stored
--                    pseudo-labels); null for a supervised teacher or a stage-1 model
--   ema_momentum     the EMA teacher's momentum (null unless teacher_mode = 'ema')
--   sharpen_method   none | symmetric | asymmetric | aals (also in aals_params)
--   sharpen_a0, sharpen_t   AALS maximum strength and centre (also in aals_params)
--   pretrain_epochs  stage-1 epochs (D_R + record negatives) before stage 2
--   batch_sampling   'uniform' or 'balanced E:N:P' (exact : record-negative : record-positive per batch)
-- The distiller fills the columns it finds (distiller/register.py); older rows keep null.
ALTER TABLE model_versions ADD COLUMN teacher_mode text CHECK (teacher_mode IN ('ema', 'fixed'));
ALTER TABLE model_versions ADD COLUMN ema_momentum double precision;
ALTER TABLE model_versions ADD COLUMN sharpen_method text;
ALTER TABLE model_versions ADD COLUMN sharpen_a0 double precision;
ALTER TABLE model_versions ADD COLUMN sharpen_t double precision;
ALTER TABLE model_versions ADD COLUMN pretrain_epochs integer;
ALTER TABLE model_versions ADD COLUMN batch_sampling text;

-- Down Migration

ALTER TABLE model_versions DROP COLUMN IF EXISTS batch_sampling;
ALTER TABLE model_versions DROP COLUMN IF EXISTS pretrain_epochs;
ALTER TABLE model_versions DROP COLUMN IF EXISTS sharpen_t;
ALTER TABLE model_versions DROP COLUMN IF EXISTS sharpen_a0;
ALTER TABLE model_versions DROP COLUMN IF EXISTS sharpen_method;
ALTER TABLE model_versions DROP COLUMN IF EXISTS ema_momentum;
ALTER TABLE model_versions DROP COLUMN IF EXISTS teacher_mode;
